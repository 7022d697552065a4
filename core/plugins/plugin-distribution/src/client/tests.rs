use bytes::Bytes;
use futures::stream;
use tonic::Code;

use super::*;

fn update(kind: &str, wasm: &'static [u8]) -> PluginUpdate {
    PluginUpdate {
        kind: kind.to_string(),
        version: "v1".to_string(),
        digest: plugin_digest(wasm),
        wasm: Bytes::from_static(wasm),
        origin: "test".to_string(),
    }
}

#[test]
fn a_sound_update_is_accepted() {
    assert_eq!(
        verify_update(&update("authz", b"plugin"), PluginKind::Authz),
        Ok(())
    );
}

#[test]
fn bytes_that_do_not_match_the_digest_are_refused() {
    let mut damaged = update("authz", b"plugin");
    damaged.wasm = Bytes::from_static(b"plugim");
    assert_eq!(
        verify_update(&damaged, PluginKind::Authz),
        Err(CorruptUpdate::DigestMismatch {
            kind: "authz".to_string(),
            version: "v1".to_string(),
            claimed: plugin_digest(b"plugin"),
            actual: plugin_digest(b"plugim"),
            size: 6,
        })
    );

    // The digest must be spelled as the server spells it.
    let mut shouting = update("authz", b"plugin");
    shouting.digest = shouting.digest.to_ascii_uppercase();
    assert!(verify_update(&shouting, PluginKind::Authz).is_err());
}

#[test]
fn an_update_of_another_kind_is_refused() {
    assert_eq!(
        verify_update(&update("export", b"plugin"), PluginKind::Authz),
        Err(CorruptUpdate::WrongKind {
            asked: PluginKind::Authz,
            got: "export".to_string(),
        })
    );
}

#[tokio::test]
async fn a_corrupt_update_ends_the_verified_stream() {
    let mut damaged = update("authz", b"two");
    damaged.wasm = Bytes::from_static(b"tw0");
    let updates = stream::iter(vec![
        Ok(update("authz", b"one")),
        Ok(damaged),
        Ok(update("authz", b"three")),
    ]);
    let mut verified = VerifiedUpdates::new(PluginKind::Authz, updates);

    let first = verified.message().await.expect("first").expect("open");
    assert_eq!(first.wasm, Bytes::from_static(b"one"));
    let status = verified.message().await.expect_err("corrupt");
    assert_eq!(status.code(), Code::DataLoss);
    assert!(
        status.message().contains(&plugin_digest(b"two")),
        "{status}"
    );
    // Nothing after a corrupt update is handed on.
    assert_eq!(verified.message().await.expect("ended"), None);
}

#[tokio::test]
async fn stream_errors_pass_through_and_end_the_stream() {
    let updates = stream::iter(vec![
        Err(Status::unavailable("gone")),
        Ok(update("authz", b"one")),
    ]);
    let mut verified = VerifiedUpdates::new(PluginKind::Authz, updates);
    let status = verified.message().await.expect_err("failed");
    assert_eq!(status.code(), Code::Unavailable);
    assert_eq!(verified.message().await.expect("ended"), None);
}
