//! `certify_loop` against a real identity service served by tonic on loopback.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use strait_test_support::eventually_within;
use strait_tls::{
    CertifyConfig, Credentials, LocalIdentity, TokenSource, certify_loop, certify_loop_with_config,
    peer_identity, wait_for_credentials,
};
use support::{DAY, Mesh, RecordingTokens, identity, serve_identity};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

const TOKEN: &[u8] = b"web-token";

fn fast() -> CertifyConfig {
    CertifyConfig {
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        ..CertifyConfig::default()
    }
}

type Rx = watch::Receiver<Option<Arc<Credentials>>>;

fn spawn_loop(
    client: IdentityClient<Channel>,
    name: &str,
    token: TokenSource,
    mesh: &Mesh,
    config: CertifyConfig,
) -> (Rx, JoinHandle<()>) {
    let (tx, rx) = watch::channel(None);
    let local = LocalIdentity::new(name).expect("local");
    let task = tokio::spawn(certify_loop_with_config(
        client,
        local,
        token,
        mesh.roots.clone(),
        tx,
        config,
    ));
    (rx, task)
}

async fn within<T>(what: &str, limit: Duration, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(limit, fut)
        .await
        .unwrap_or_else(|_| panic!("{what} did not happen within {limit:?}"))
}

#[tokio::test]
async fn credentials_are_published_for_our_identity_and_the_loop_ends_with_its_receivers() {
    let mesh = Mesh::new(DAY);
    let tokens = RecordingTokens::default();
    tokens.register(TOKEN, "emojivoto", "web");
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let id = identity("emojivoto", "web");

    let (tx, mut rx) = watch::channel(None);
    let local = LocalIdentity::new(&id).expect("local");
    let task = tokio::spawn(certify_loop(
        client,
        local,
        TokenSource::Fixed(TOKEN.to_vec()),
        mesh.roots.clone(),
        tx,
    ));
    let creds = within(
        "certification",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    assert_eq!(creds.identity(), id);
    assert_eq!(
        peer_identity(creds.certificate_chain()).as_deref(),
        Some(id.as_str())
    );
    let left = creds
        .expiry()
        .duration_since(SystemTime::now())
        .expect("valid");
    assert!(left > DAY - Duration::from_secs(60), "{left:?}");
    assert_eq!(tokens.seen(), vec![TOKEN.to_vec()]);

    // The leaf is a day long: the loop sleeps, and wakes to end when no
    // one listens any more.
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}

#[tokio::test]
async fn a_bad_token_publishes_nothing_and_is_retried_until_registered() {
    let mesh = Mesh::new(DAY);
    let tokens = RecordingTokens::default();
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let id = identity("emojivoto", "web");
    let (mut rx, task) = spawn_loop(
        client,
        &id,
        TokenSource::Fixed(TOKEN.to_vec()),
        &mesh,
        fast(),
    );

    let retried = async || match tokens.calls() {
        calls if calls >= 3 => Ok(()),
        calls => Err(calls),
    };
    eventually_within(Duration::from_secs(10), "3 calls, retrying", retried).await;
    assert!(rx.borrow().is_none(), "nothing published for a bad token");
    assert!(!task.is_finished());

    tokens.register(TOKEN, "emojivoto", "web");
    let creds = within(
        "certification after registering",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    assert_eq!(creds.identity(), id);
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}

#[tokio::test]
async fn a_token_for_another_account_is_refused_and_nothing_published() {
    let mesh = Mesh::new(DAY);
    let tokens = RecordingTokens::default();
    tokens.register(TOKEN, "emojivoto", "voting");
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let (rx, task) = spawn_loop(
        client,
        &identity("emojivoto", "web"),
        TokenSource::Fixed(TOKEN.to_vec()),
        &mesh,
        fast(),
    );
    eventually_within(Duration::from_secs(10), "a retried call", async || {
        tokens.calls() >= 2
    })
    .await;
    assert!(rx.borrow().is_none());
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}

#[tokio::test]
async fn credentials_are_renewed_before_they_expire() {
    let mesh = Mesh::new(Duration::from_secs(3));
    let tokens = RecordingTokens::default();
    tokens.register(TOKEN, "emojivoto", "web");
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let id = identity("emojivoto", "web");
    // Default timing: renewal at 70% of the lifetime.
    let (mut rx, task) = spawn_loop(
        client,
        &id,
        TokenSource::Fixed(TOKEN.to_vec()),
        &mesh,
        CertifyConfig::default(),
    );
    let first = within(
        "certification",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    within("renewal", Duration::from_secs(10), rx.changed())
        .await
        .expect("sender alive");
    let second = rx.borrow_and_update().clone().expect("renewed credentials");
    let renewed_at = SystemTime::now();
    assert!(
        renewed_at < first.expiry(),
        "renewed at {renewed_at:?}, after the first leaf expired at {:?}",
        first.expiry()
    );
    assert_eq!(second.identity(), id);
    assert_ne!(
        first.certificate_chain()[0],
        second.certificate_chain()[0],
        "a new leaf"
    );
    assert!(second.expiry() >= first.expiry());
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}

#[tokio::test]
async fn the_token_file_is_read_again_before_each_attempt() {
    let mesh = Mesh::new(DAY);
    let tokens = RecordingTokens::default();
    tokens.register(TOKEN, "emojivoto", "web");
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let dir = std::env::temp_dir().join(format!("strait-tls-token-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("token");
    std::fs::write(&path, b"stale-token\n").expect("write");

    let (mut rx, task) = spawn_loop(
        client,
        &identity("emojivoto", "web"),
        TokenSource::File(path.clone()),
        &mesh,
        fast(),
    );
    eventually_within(Duration::from_secs(10), "a retried call", async || {
        tokens.calls() >= 2
    })
    .await;
    assert!(rx.borrow().is_none());

    // The kubelet rotates the token in place.
    std::fs::write(&path, TOKEN).expect("rotate");
    within(
        "certification with the rotated token",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    let seen = tokens.seen();
    assert_eq!(seen.first().map(Vec::as_slice), Some(&b"stale-token"[..]));
    assert_eq!(seen.last().map(Vec::as_slice), Some(TOKEN));
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_unreachable_identity_service_is_retried_without_panicking() {
    let mesh = Mesh::new(DAY);
    // A port that was just free: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let channel = Channel::from_shared(format!("http://{addr}"))
        .expect("uri")
        .connect_lazy();
    let (rx, task) = spawn_loop(
        IdentityClient::new(channel),
        &identity("emojivoto", "web"),
        TokenSource::Fixed(TOKEN.to_vec()),
        &mesh,
        fast(),
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(rx.borrow().is_none());
    assert!(!task.is_finished(), "still retrying");
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}

#[tokio::test]
async fn credentials_that_expire_unrenewed_are_withdrawn_and_come_back_with_a_renewal() {
    let mesh = Mesh::new(Duration::from_secs(3));
    let tokens = RecordingTokens::default();
    tokens.register(TOKEN, "emojivoto", "web");
    let client = serve_identity(mesh.certifier.clone(), tokens.clone()).await;
    let (mut rx, task) = spawn_loop(
        client,
        &identity("emojivoto", "web"),
        TokenSource::Fixed(TOKEN.to_vec()),
        &mesh,
        fast(),
    );
    let first = within(
        "certification",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    // Every renewal now fails: the certificate runs out.
    tokens.revoke(TOKEN);
    within(
        "the expired credentials withdrawn",
        Duration::from_secs(10),
        rx.wait_for(Option::is_none),
    )
    .await
    .expect("sender alive");
    let withdrawn_at = SystemTime::now();
    assert!(
        withdrawn_at >= first.expiry(),
        "withdrawn at {withdrawn_at:?}, before the expiry {:?}",
        first.expiry()
    );
    assert!(
        withdrawn_at < first.expiry() + Duration::from_secs(1),
        "withdrawn at {withdrawn_at:?}, long after the expiry {:?}",
        first.expiry()
    );
    tokens.register(TOKEN, "emojivoto", "web");
    let again = within(
        "certification once the identity service accepts again",
        Duration::from_secs(10),
        wait_for_credentials(&mut rx),
    )
    .await;
    assert!(again.expiry() > SystemTime::now());
    drop(rx);
    within("the loop's end", Duration::from_secs(5), task)
        .await
        .expect("no panic");
}
