//! `OutboundPolicies` over a real socket: a tonic server on loopback
//! answering from an index fed by a `MemoryStore`, and a tonic client
//! asking as a client proxy would, by address and by authority.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::meta::{Metadata, metadata};
use linkerd2_proxy_api::net::{IpAddress, TcpAddress};
use linkerd2_proxy_api::outbound::outbound_policies_client::OutboundPoliciesClient;
use linkerd2_proxy_api::outbound::{OutboundPolicy, TrafficSpec, proxy_protocol, traffic_spec};
use parking_lot::Mutex;
use serde_json::json;
use strait_policy::{Index, IndexConfig};
use strait_policy_server::{IndexSource, OutboundPolicyService, feed};
use strait_store::MemoryStore;
use strait_test_support::grpc::{channel, serve};
use strait_test_support::guide::{NS, workload};
use strait_test_support::objects::{pod, service};
use strait_test_support::poll::{eventually_within, within};
use strait_test_support::store::{apply, namespaces};
use tokio::sync::watch;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(5);
const BB_IP: &str = "10.96.0.10";

/// A server over a fed index, holding at most `max_watches` streams, and a
/// client; the store holds Service `bb` on `10.96.0.10:8080`.
async fn start(max_watches: usize) -> (MemoryStore, OutboundPoliciesClient<Channel>) {
    let store = MemoryStore::new();
    namespaces(&store, &[NS]);
    apply(
        &store,
        service(NS, "bb").cluster_ip(BB_IP).port("http", 8080, 8080),
    );
    let index = Arc::new(Mutex::new(Index::new(IndexConfig::default())));
    let (publish, changes) = watch::channel(0);
    tokio::spawn(feed(store.clone(), index.clone(), publish));
    let service =
        OutboundPolicyService::with_max_watches(IndexSource::new(index, changes), max_watches)
            .into_server();
    let addr = serve(Routes::new(service)).await;
    (store, OutboundPoliciesClient::new(channel(addr).await))
}

fn by_addr(ip: &str, port: u32) -> TrafficSpec {
    let ip: IpAddr = ip.parse().expect("an IP");
    TrafficSpec {
        source_workload: workload(NS, "client"),
        target: Some(traffic_spec::Target::Addr(TcpAddress {
            ip: Some(IpAddress::from(ip)),
            port,
        })),
    }
}

fn by_authority(authority: &str) -> TrafficSpec {
    TrafficSpec {
        source_workload: workload(NS, "client"),
        target: Some(traffic_spec::Target::Authority(authority.to_string())),
    }
}

/// `kind/name` of each HTTP/1 route, as the proxy labels route metrics.
fn route_names(policy: &OutboundPolicy) -> Vec<String> {
    let Some(proxy_protocol::Kind::Detect(detect)) =
        policy.protocol.as_ref().and_then(|p| p.kind.as_ref())
    else {
        return Vec::new();
    };
    let routes = detect.http1.iter().flat_map(|h| &h.routes);
    routes
        .map(
            |r| match r.metadata.as_ref().and_then(|m| m.kind.as_ref()) {
                Some(metadata::Kind::Default(name)) => format!("default/{name}"),
                Some(metadata::Kind::Resource(r)) => format!("{}/{}", r.kind, r.name),
                None => "<none>".into(),
            },
        )
        .collect()
}

fn parent_name(policy: &OutboundPolicy) -> Option<String> {
    match policy
        .metadata
        .as_ref()
        .and_then(|m: &Metadata| m.kind.as_ref())
    {
        Some(metadata::Kind::Resource(r)) => {
            Some(format!("{}/{}/{}:{}", r.kind, r.namespace, r.name, r.port))
        }
        _ => None,
    }
}

/// A `policy.linkerd.io` HTTPRoute on Service `bb` port 8080.
fn bb_route(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
        "metadata": {"namespace": NS, "name": name},
        "spec": {
            "parentRefs": [{"group": "core", "kind": "Service", "name": "bb", "port": 8080}],
            "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                       "backendRefs": [{"name": "bb", "port": 8080}]}]
        }
    })
}

/// Asks by address until the Service is indexed.
async fn get_ready(client: &mut OutboundPoliciesClient<Channel>) -> OutboundPolicy {
    eventually_within(PATIENCE, "a policy for bb", async || {
        client
            .get(by_addr(BB_IP, 8080))
            .await
            .map(tonic::Response::into_inner)
    })
    .await
}

#[tokio::test]
async fn get_answers_the_default_route_by_address_and_by_authority() {
    let (_store, mut client) = start(8).await;
    let policy = get_ready(&mut client).await;
    assert_eq!(
        parent_name(&policy).as_deref(),
        Some("Service/mc-demo/bb:8080")
    );
    assert_eq!(route_names(&policy), ["default/http"]);

    let named = client
        .get(by_authority("bb.mc-demo.svc.cluster.local:8080"))
        .await
        .expect("a policy by name")
        .into_inner();
    assert_eq!(named, policy);
}

#[tokio::test]
async fn unknown_targets_are_not_found_and_malformed_ones_invalid() {
    let (_store, mut client) = start(8).await;
    get_ready(&mut client).await;
    for spec in [
        by_addr("10.96.0.99", 8080),
        by_addr(BB_IP, 9999),
        by_authority("example.com:443"),
    ] {
        let status = client.get(spec).await.expect_err("no policy");
        assert_eq!(status.code(), Code::NotFound, "{}", status.message());
    }
    let status = client
        .get(by_authority("bb.mc-demo.svc.cluster.local:http"))
        .await
        .expect_err("malformed");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("port"), "{}", status.message());
    let mut no_workload = by_addr(BB_IP, 8080);
    no_workload.source_workload = String::new();
    let status = client.get(no_workload).await.expect_err("no workload");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("source_workload"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn watch_sends_an_update_when_an_http_route_is_applied() {
    let (store, mut client) = start(8).await;
    get_ready(&mut client).await;
    let mut updates = client
        .watch(by_addr(BB_IP, 8080))
        .await
        .expect("watch")
        .into_inner();
    let first = within(PATIENCE, "the first policy", updates.message())
        .await
        .expect("first")
        .expect("open");
    assert_eq!(route_names(&first), ["default/http"]);

    apply(&store, bb_route("api"));
    let routed = within(PATIENCE, "the routed policy", updates.message())
        .await
        .expect("update")
        .expect("open");
    assert_eq!(route_names(&routed), ["HTTPRoute/api"]);

    // A change to something else (a pod) sends nothing; the next message
    // is the route's removal.
    apply(&store, pod(NS, "other").container("c", &[("http", 80)]));
    strait_test_support::store::delete::<strait_api::policy::HttpRoute>(&store, NS, "api").await;
    let reverted = within(PATIENCE, "the default policy again", updates.message())
        .await
        .expect("update")
        .expect("open");
    assert_eq!(route_names(&reverted), ["default/http"]);
}

#[tokio::test]
async fn watches_are_capped_and_a_closed_one_frees_its_slot() {
    let (_store, mut client) = start(1).await;
    get_ready(&mut client).await;
    let first = client.watch(by_addr(BB_IP, 8080)).await.expect("watch");
    let status = client
        .watch(by_addr(BB_IP, 8080))
        .await
        .expect_err("over the cap");
    assert_eq!(status.code(), Code::ResourceExhausted);
    drop(first);
    eventually_within(PATIENCE, "a slot after the first watch ends", async || {
        client.watch(by_addr(BB_IP, 8080)).await.map(|_| ())
    })
    .await;
}
