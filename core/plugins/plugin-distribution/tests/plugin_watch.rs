//! `strait.plugin.v1.PluginDistribution` over a real socket: a tonic server
//! on loopback streaming a `PluginOffer`, and the proxy's client watching
//! it.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use strait_plugin_distribution::{
    MAX_PLUGIN_MESSAGE_BYTES, OfferedPlugin, PluginDistributionClient, PluginDistributionService,
    PluginKind, PluginOffer, PluginUpdate, VerifiedUpdates, WatchPluginRequest, plugin_digest,
};
use tonic::Code;
use tonic::codec::Streaming;
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(10);
/// How long a stream must stay silent to count as sending nothing.
const QUIET: Duration = Duration::from_millis(200);
const ORIGIN: &str = "configmap linkerd/strait-plugins";

struct Mesh {
    offer: PluginOffer,
    client: PluginDistributionClient<Channel>,
}

async fn start() -> Mesh {
    let offer = PluginOffer::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let service = PluginDistributionService::new(&offer).into_server();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    Mesh {
        offer,
        client: PluginDistributionClient::new(channel),
    }
}

/// A plugin whose bytes are `wasm`.
fn plugin(kind: PluginKind, version: &str, wasm: impl Into<Bytes>) -> OfferedPlugin {
    OfferedPlugin {
        kind,
        version: version.to_string(),
        origin: ORIGIN.to_string(),
        wasm: wasm.into(),
    }
}

fn offer(mesh: &Mesh, plugin: OfferedPlugin) -> bool {
    match mesh.offer.offer(plugin) {
        Ok(changed) => changed,
        Err(e) => panic!("offer refused: {e}"),
    }
}

async fn watch(
    mesh: &mut Mesh,
    kind: PluginKind,
    current: Option<&str>,
) -> Streaming<PluginUpdate> {
    match mesh.client.watch(kind, current).await {
        Ok(updates) => updates,
        Err(status) => panic!("watch refused: {status}"),
    }
}

async fn next(updates: &mut Streaming<PluginUpdate>) -> PluginUpdate {
    match tokio::time::timeout(PATIENCE, updates.message()).await {
        Ok(Ok(Some(update))) => update,
        other => panic!("expected an update, got {other:?}"),
    }
}

async fn next_verified(updates: &mut VerifiedUpdates) -> PluginUpdate {
    match tokio::time::timeout(PATIENCE, updates.message()).await {
        Ok(Ok(Some(update))) => update,
        other => panic!("expected an update, got {other:?}"),
    }
}

async fn assert_quiet(updates: &mut Streaming<PluginUpdate>) {
    if let Ok(item) = tokio::time::timeout(QUIET, updates.message()).await {
        panic!("expected nothing, got {item:?}");
    }
}

#[tokio::test]
async fn a_watch_gets_the_current_plugin_then_each_new_one() {
    let mut mesh = start().await;
    let first = b"\0asm authz one".as_slice();
    assert!(offer(&mesh, plugin(PluginKind::Authz, "v1", first)));
    // Another kind's plugin is not this watch's business.
    assert!(offer(
        &mesh,
        plugin(PluginKind::Export, "e1", b"export".as_slice())
    ));

    let mut updates = watch(&mut mesh, PluginKind::Authz, None).await;
    let received = next(&mut updates).await;
    assert_eq!(
        received,
        PluginUpdate {
            kind: "authz".to_string(),
            version: "v1".to_string(),
            digest: plugin_digest(first),
            wasm: Bytes::from_static(first),
            origin: ORIGIN.to_string(),
        }
    );

    let second = b"\0asm authz two".as_slice();
    assert!(offer(&mesh, plugin(PluginKind::Authz, "v2", second)));
    let received = next(&mut updates).await;
    assert_eq!(received.version, "v2");
    assert_eq!(received.digest, plugin_digest(second));
    assert_eq!(received.wasm, Bytes::from_static(second));

    // Offering v2 again sends nothing: the next message is v3, not v2.
    assert!(!offer(&mesh, plugin(PluginKind::Authz, "v2", second)));
    assert_quiet(&mut updates).await;
    let third = b"\0asm authz three".as_slice();
    assert!(offer(&mesh, plugin(PluginKind::Authz, "v3", third)));
    let received = next(&mut updates).await;
    assert_eq!(received.version, "v3");
    assert_eq!(received.wasm, Bytes::from_static(third));
}

#[tokio::test]
async fn the_plugin_the_proxy_runs_is_not_sent_first() {
    let mut mesh = start().await;
    let running = b"\0asm authz running".as_slice();
    offer(&mesh, plugin(PluginKind::Authz, "v1", running));

    let digest = plugin_digest(running);
    let mut updates = watch(&mut mesh, PluginKind::Authz, Some(&digest)).await;
    assert_quiet(&mut updates).await;
    let newer = b"\0asm authz newer".as_slice();
    offer(&mesh, plugin(PluginKind::Authz, "v2", newer));
    let received = next(&mut updates).await;
    assert_eq!(received.version, "v2");
    assert_eq!(received.digest, plugin_digest(newer));

    // A proxy running something else gets the current plugin at once.
    let mut stale = watch(&mut mesh, PluginKind::Authz, Some(&digest)).await;
    assert_eq!(next(&mut stale).await.version, "v2");
}

#[tokio::test]
async fn a_watch_before_any_offer_waits_for_one() {
    let mut mesh = start().await;
    let mut updates = mesh
        .client
        .watch_verified(PluginKind::Export, None)
        .await
        .expect("watch");
    offer(
        &mesh,
        plugin(PluginKind::Export, "", b"\0asm export".as_slice()),
    );
    let received = next_verified(&mut updates).await;
    assert_eq!(received.kind, "export");
    assert_eq!(received.version, plugin_digest(b"\0asm export")[..12]);
}

#[tokio::test]
async fn an_unknown_kind_is_refused_by_name() {
    let mut mesh = start().await;
    offer(&mesh, plugin(PluginKind::Authz, "v1", b"\0asm".as_slice()));
    let status = mesh
        .client
        .watch_request(WatchPluginRequest {
            kind: "policy".to_string(),
            current_digest: String::new(),
        })
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("\"policy\""), "{status}");
}

#[tokio::test]
async fn a_plugin_past_the_grpc_default_limit_goes_through() {
    let mut mesh = start().await;
    let size = 5 * 1024 * 1024;
    assert!(size > 4 * 1024 * 1024 && size < MAX_PLUGIN_MESSAGE_BYTES);
    let wasm: Bytes = (0..size)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into();
    offer(&mesh, plugin(PluginKind::Authz, "big", wasm.clone()));

    let mut updates = mesh
        .client
        .watch_verified(PluginKind::Authz, None)
        .await
        .expect("watch");
    let received = next_verified(&mut updates).await;
    assert_eq!(received.version, "big");
    assert_eq!(received.wasm.len(), size);
    assert_eq!(received.wasm, wasm);
    assert_eq!(received.digest, plugin_digest(&wasm));
}

#[tokio::test]
async fn a_client_that_goes_away_frees_its_watch() {
    let mut mesh = start().await;
    offer(&mesh, plugin(PluginKind::Authz, "v1", b"\0asm".as_slice()));
    let baseline = mesh.offer.receiver_count(PluginKind::Authz);

    let mut updates = watch(&mut mesh, PluginKind::Authz, None).await;
    next(&mut updates).await;
    assert_eq!(mesh.offer.receiver_count(PluginKind::Authz), baseline + 1);

    drop(updates);
    let released = tokio::time::timeout(PATIENCE, async {
        while mesh.offer.receiver_count(PluginKind::Authz) != baseline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(released.is_ok(), "the watch outlived its client");
}

#[tokio::test]
async fn watches_end_cleanly_when_the_offer_is_dropped() {
    let Mesh { offer, mut client } = start().await;
    offer
        .offer(plugin(PluginKind::Authz, "v1", b"\0asm".as_slice()))
        .expect("offered");
    let mut updates = client.watch(PluginKind::Authz, None).await.expect("watch");
    next(&mut updates).await;
    drop(offer);
    match tokio::time::timeout(PATIENCE, updates.message()).await {
        Ok(Ok(None)) => {}
        other => panic!("expected a clean end, got {other:?}"),
    }
}
