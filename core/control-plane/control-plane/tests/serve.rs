//! The assembled control plane over a real socket: several services on one
//! address, fed from an embedded store, and stopped cleanly.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use linkerd2_proxy_api::identity::CertifyRequest;
use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use linkerd2_proxy_api::inbound::PortSpec;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use linkerd2_proxy_api::outbound::outbound_policies_client::OutboundPoliciesClient;
use linkerd2_proxy_api::outbound::{TrafficSpec, traffic_spec};
use serde_json::json;
use strait_control_plane::{ControlPlane, RunningControlPlane, ServeError};
use strait_identity::{Certifier, EmbeddedTokens, IdentityDomain, Issuer, SigningCa};
use strait_plugin_distribution::{
    OfferedPlugin, PluginDistributionClient, PluginKind, PluginOffer,
};
use strait_policy::IndexConfig;
use strait_store::MemoryStore;
use tonic::Code;
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(5);
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn certifier() -> Arc<Certifier> {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).expect("root");
    let issuer = Issuer::generate(&root, "identity.linkerd.cluster.local", DAY).expect("issuer");
    Arc::new(Certifier::new(issuer, IdentityDomain::default()))
}

fn store_with_bb_pod() -> MemoryStore {
    let store = MemoryStore::new();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
            "test",
        )
        .expect("apply namespace");
    store
        .apply_json(
            json!({
                "apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": "bb-0", "namespace": "mc-demo", "labels": {"app": "bb"}},
                "spec": {"containers": [{"name": "bb", "ports": [{"name": "http", "containerPort": 8080}]}]}
            }),
            "test",
        )
        .expect("apply pod");
    store
}

async fn start(store: MemoryStore) -> RunningControlPlane {
    ControlPlane::new()
        .with_identity(certifier(), EmbeddedTokens::new())
        .with_policy(store, IndexConfig::default(), &PluginOffer::new())
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve")
}

async fn channel(running: &RunningControlPlane) -> Channel {
    Channel::from_shared(format!("http://{}", running.local_addr()))
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

fn bb_port() -> PortSpec {
    PortSpec {
        workload: json!({"ns": "mc-demo", "pod": "bb-0"}).to_string(),
        port: 8080,
    }
}

#[tokio::test]
async fn identity_and_policy_share_one_address() {
    let running = start(store_with_bb_pod()).await;
    assert_eq!(running.services(), ["identity", "policy"]);
    let channel = channel(&running).await;

    // The policy index is fed from the store: the pod's port has a policy
    // once the feeder has caught up.
    let mut policy = InboundServerPoliciesClient::new(channel.clone());
    let server = tokio::time::timeout(PATIENCE, async {
        loop {
            match policy.get_port(bb_port()).await {
                Ok(server) => break server.into_inner(),
                Err(status) if status.code() == Code::NotFound => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(status) => panic!("unexpected status: {status}"),
            }
        }
    })
    .await
    .expect("the policy of bb-0:8080 in time");
    let labels = server.labels;
    assert_eq!(
        labels.get("name").map(String::as_str),
        Some("all-unauthenticated")
    );

    // Identity answers on the same address, and refuses an unknown token.
    let mut identity = IdentityClient::new(channel);
    let refused = identity
        .certify(CertifyRequest {
            identity: "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local".into(),
            token: b"not-a-token".to_vec(),
            certificate_signing_request: Vec::new(),
        })
        .await
        .expect_err("an unknown token is refused");
    assert_eq!(refused.code(), Code::Unauthenticated, "{refused}");

    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_policy_address_serves_outbound_policies() {
    let store = store_with_bb_pod();
    store
        .apply_json(
            json!({
                "apiVersion": "v1", "kind": "Service",
                "metadata": {"name": "bb", "namespace": "mc-demo"},
                "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 8080}]}
            }),
            "test",
        )
        .expect("apply service");
    let running = start(store).await;
    let mut outbound = OutboundPoliciesClient::new(channel(&running).await);
    let spec = TrafficSpec {
        source_workload: json!({"ns": "mc-demo", "pod": "bb-0"}).to_string(),
        target: Some(traffic_spec::Target::Authority(
            "bb.mc-demo.svc.cluster.local:8080".into(),
        )),
    };
    let policy = tokio::time::timeout(PATIENCE, async {
        loop {
            match outbound.get(spec.clone()).await {
                Ok(policy) => break policy.into_inner(),
                Err(status) if status.code() == Code::NotFound => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(status) => panic!("unexpected status: {status}"),
            }
        }
    })
    .await
    .expect("the outbound policy of bb:8080 in time");
    assert!(policy.protocol.is_some() && policy.metadata.is_some());
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_policy_address_distributes_the_offered_authz_plugin() {
    let plugins = PluginOffer::new();
    plugins
        .offer(OfferedPlugin {
            kind: PluginKind::Authz,
            version: "v1".into(),
            origin: "test".into(),
            wasm: Bytes::from_static(b"\0asm-not-really"),
        })
        .expect("offer");
    let running = ControlPlane::new()
        .with_policy(MemoryStore::new(), IndexConfig::default(), &plugins)
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect("serve");
    let mut client = PluginDistributionClient::new(channel(&running).await);
    let mut updates = client
        .watch_verified(PluginKind::Authz, None)
        .await
        .expect("watch");
    let first = tokio::time::timeout(PATIENCE, updates.message())
        .await
        .expect("in time")
        .expect("no error")
        .expect("an update");
    assert_eq!(first.version, "v1");
    assert_eq!(&first.wasm[..], b"\0asm-not-really");
    // The offer outlives the server here, so the stream is the client's to
    // close before a prompt shutdown.
    drop(updates);
    drop(client);
    running.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn shutdown_ends_open_watches() {
    let running = start(store_with_bb_pod()).await;
    let mut policy = InboundServerPoliciesClient::new(channel(&running).await);
    let mut watch = tokio::time::timeout(PATIENCE, async {
        loop {
            match policy.watch_port(bb_port()).await {
                Ok(stream) => break stream.into_inner(),
                Err(status) if status.code() == Code::NotFound => {
                    tokio::time::sleep(Duration::from_millis(10)).await
                }
                Err(status) => panic!("unexpected status: {status}"),
            }
        }
    })
    .await
    .expect("a watch in time");
    assert!(watch.message().await.expect("first policy").is_some());

    tokio::time::timeout(PATIENCE, running.shutdown())
        .await
        .expect("shutdown within the grace period")
        .expect("clean shutdown");
    // The feeder is gone, so the watch ends (cleanly or with an error), and
    // does not hang.
    let next = tokio::time::timeout(PATIENCE, watch.message())
        .await
        .expect("the watch ends after shutdown");
    assert!(
        !matches!(next, Ok(Some(_))),
        "no policy after shutdown: {next:?}"
    );
}

#[tokio::test]
async fn a_taken_address_is_reported_with_the_address() {
    let first = start(MemoryStore::new()).await;
    let taken = first.local_addr();
    let err = ControlPlane::new()
        .with_policy(
            MemoryStore::new(),
            IndexConfig::default(),
            &PluginOffer::new(),
        )
        .serve(taken)
        .await
        .expect_err("the address is taken");
    assert!(
        matches!(err, ServeError::Bind { addr, .. } if addr == taken),
        "{err}"
    );
    assert!(err.to_string().contains(&taken.to_string()), "{err}");
}

#[tokio::test]
async fn nothing_to_serve_is_an_error() {
    let err = ControlPlane::new()
        .serve("127.0.0.1:0".parse().expect("addr"))
        .await
        .expect_err("nothing to serve");
    assert!(matches!(err, ServeError::NoServices), "{err}");
}
