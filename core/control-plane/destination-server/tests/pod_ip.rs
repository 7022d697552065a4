//! `Get` and `GetProfile` for a pod's own address (StatefulSet members,
//! headless Services, direct calls), over a real socket: a meshed pod's
//! address must resolve with the pod's identity, or the client proxy sends
//! its traffic in plaintext.

mod support;

use k8s_openapi::api::core::v1::Pod;
use linkerd2_proxy_api::destination::{DestinationProfile, WeightedAddr};
use serde_json::{Value, json};
use strait_test_support::store::apply_with_status;
use strait_test_support::{eventually_within, objects, within};
use support::*;
use tonic::Streaming;

/// The address of `web-0`, later of `db-0`.
const POD_IP: &str = "10.244.3.7";
const OTHER_IP: &str = "10.244.3.8";
const NODE_IP: &str = "172.18.0.2";

/// A pod of StatefulSet `owner` at `ip`, running as `sa`, with a proxy when
/// `meshed`.
fn member(name: &str, owner: &str, sa: &str, ip: &str, meshed: bool) -> Value {
    let pod = objects::pod(NS, name)
        .service_account(sa)
        .container("app", &[("http", 8080)])
        .ip(ip);
    let mut pod = if meshed { pod.meshed() } else { pod }.build();
    pod["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": owner,
        "uid": format!("uid-{owner}"), "controller": true
    }]);
    pod
}

/// Applies `pod` with its status (IP, phase), as the kubelet reports it.
async fn place(mesh: &Mesh, pod: Value) {
    apply_with_status::<Pod>(&mesh.west, pod).await;
}

/// The one endpoint of the first update of a `Get` for `path`.
async fn first_endpoint(mesh: &mut Mesh, path: &str) -> WeightedAddr {
    let mut updates = get(mesh, path).await;
    only(&next(&mut updates).await)
}

/// The one endpoint an `Add` announces.
fn only(update: &linkerd2_proxy_api::destination::Update) -> WeightedAddr {
    let (addrs, _) = added(update);
    assert_eq!(addrs.len(), 1, "{}", describe(update));
    addrs.into_values().next().expect("one endpoint")
}

/// Waits until a fresh `Get` for `path` announces `identity`, so the index
/// has the pods applied before it.
async fn until_identity(mesh: &mut Mesh, path: &str, identity: &str) -> WeightedAddr {
    eventually_within(
        PATIENCE,
        format_args!("{path} resolving with identity {identity}"),
        async || {
            let endpoint = first_endpoint(mesh, path).await;
            match tls_name(&endpoint) {
                Some(name) if name == identity => Ok(endpoint),
                seen => Err(seen),
            }
        },
    )
    .await
}

async fn profiles(mesh: &mut Mesh, path: &str) -> Streaming<DestinationProfile> {
    mesh.client
        .get_profile(request(path))
        .await
        .expect("get_profile")
        .into_inner()
}

async fn next_profile(stream: &mut Streaming<DestinationProfile>) -> DestinationProfile {
    match within(PATIENCE, "the next profile", stream.message()).await {
        Ok(Some(profile)) => profile,
        Ok(None) => panic!("the profile stream ended"),
        Err(status) => panic!("the profile stream failed: {status:?}"),
    }
}

/// What a client is told of an address it knows nothing about: the
/// address itself, plaintext, no hint, no labels.
fn assert_bare(endpoint: &WeightedAddr, address: &str) {
    assert_eq!(socket(endpoint), address);
    assert_eq!(endpoint.weight, 10_000);
    assert_eq!(tls_name(endpoint), None, "{address}");
    assert!(endpoint.protocol_hint.is_none(), "{address}");
    assert!(endpoint.metric_labels.is_empty(), "{address}");
}

#[tokio::test]
async fn a_meshed_pods_ip_resolves_with_the_pods_identity() {
    let mut mesh = start().await;
    place(&mesh, member("web-0", "web", "web", POD_IP, true)).await;
    let path = format!("{POD_IP}:8080");

    let endpoint = until_identity(&mut mesh, &path, &identity("web", "cluster.local")).await;
    assert_eq!(socket(&endpoint), path);
    assert_eq!(endpoint.weight, 10_000);
    assert!(is_h2(&endpoint), "the pod's proxy accepts HTTP/2");
    assert_eq!(
        endpoint.metric_labels,
        labels(&[
            ("pod", "web-0"),
            ("namespace", NS),
            ("serviceaccount", "web"),
            ("statefulset", "web"),
        ])
    );
    assert_eq!(endpoint.authority_override, None);

    // The profile of the address carries the same endpoint.
    let profile = next_profile(&mut profiles(&mut mesh, &path).await).await;
    let endpoint = profile.endpoint.expect("the endpoint of an IP");
    assert_eq!(tls_name(&endpoint), Some(identity("web", "cluster.local")));
    assert!(is_h2(&endpoint));
}

#[tokio::test]
async fn an_unmeshed_pods_ip_and_an_unknown_ip_get_no_identity() {
    let mut mesh = start().await;
    // Pod events are applied in order: once `web-0` resolves, `legacy-0`
    // is in the index.
    place(
        &mesh,
        member("legacy-0", "legacy", "legacy", OTHER_IP, false),
    )
    .await;
    place(&mesh, member("web-0", "web", "web", POD_IP, true)).await;
    until_identity(
        &mut mesh,
        &format!("{POD_IP}:8080"),
        &identity("web", "cluster.local"),
    )
    .await;

    for address in [format!("{OTHER_IP}:8080"), "10.244.9.9:8080".to_string()] {
        assert_bare(&first_endpoint(&mut mesh, &address).await, &address);
        let profile = next_profile(&mut profiles(&mut mesh, &address).await).await;
        assert_bare(&profile.endpoint.expect("the endpoint of an IP"), &address);
    }
}

#[tokio::test]
async fn finished_host_network_and_contested_ips_lend_no_identity() {
    let mut mesh = start().await;
    // A finished Job pod keeps its IP in its status after the IP is given
    // to another pod: the running pod is the one behind it.
    let mut finished = member("job-x", "job", "job", POD_IP, true);
    finished["status"]["phase"] = "Succeeded".into();
    place(&mesh, finished).await;
    place(&mesh, member("db-0", "db", "db", POD_IP, true)).await;
    // A pod on the host's network has the node's address, shared with
    // every other such pod and the node itself.
    let mut host = member("agent-1", "agent", "agent", NODE_IP, true);
    host["spec"]["hostNetwork"] = true.into();
    place(&mesh, host).await;
    // Two running pods claiming one address: neither is trusted with it.
    place(&mesh, member("a-0", "a", "a", OTHER_IP, true)).await;
    place(&mesh, member("b-0", "b", "b", OTHER_IP, true)).await;
    place(&mesh, member("web-0", "web", "web", "10.244.3.9", true)).await;
    until_identity(
        &mut mesh,
        "10.244.3.9:8080",
        &identity("web", "cluster.local"),
    )
    .await;

    let running = first_endpoint(&mut mesh, &format!("{POD_IP}:8080")).await;
    assert_eq!(tls_name(&running), Some(identity("db", "cluster.local")));
    for address in [format!("{NODE_IP}:8080"), format!("{OTHER_IP}:8080")] {
        assert_bare(&first_endpoint(&mut mesh, &address).await, &address);
    }
}

#[tokio::test]
async fn the_stream_follows_the_pod_behind_the_ip() {
    let mut mesh = start().await;
    place(&mesh, member("web-0", "web", "web", POD_IP, true)).await;
    let path = format!("{POD_IP}:8080");
    until_identity(&mut mesh, &path, &identity("web", "cluster.local")).await;
    let mut updates = get(&mut mesh, &path).await;
    let first = only(&next(&mut updates).await);
    assert_eq!(tls_name(&first), Some(identity("web", "cluster.local")));
    let mut profile = profiles(&mut mesh, &path).await;
    let endpoint = next_profile(&mut profile).await.endpoint.expect("endpoint");
    assert_eq!(tls_name(&endpoint), Some(identity("web", "cluster.local")));

    // The pod is deleted: nothing vouches for the address any more.
    delete_pod(&mesh.west, "web-0").await;
    assert_bare(&only(&next(&mut updates).await), &path);
    assert_bare(
        &next_profile(&mut profile).await.endpoint.expect("endpoint"),
        &path,
    );

    // The address is given to another pod: its identity, not the old one.
    place(&mesh, member("db-0", "db", "db", POD_IP, true)).await;
    let moved = only(&next(&mut updates).await);
    assert_eq!(tls_name(&moved), Some(identity("db", "cluster.local")));
    assert_eq!(
        moved.metric_labels,
        labels(&[
            ("pod", "db-0"),
            ("namespace", NS),
            ("serviceaccount", "db"),
            ("statefulset", "db"),
        ])
    );
    let endpoint = next_profile(&mut profile).await.endpoint.expect("endpoint");
    assert_eq!(tls_name(&endpoint), Some(identity("db", "cluster.local")));

    // That pod's address changes: the old address is plain again.
    place(&mesh, member("db-0", "db", "db", OTHER_IP, true)).await;
    assert_bare(&only(&next(&mut updates).await), &path);

    // The address goes to an unmeshed pod: still no identity, and no
    // update for a change the client cannot see.
    place(&mesh, member("legacy-0", "legacy", "legacy", POD_IP, false)).await;
    delete_pod(&mesh.west, "legacy-0").await;
    place(&mesh, member("web-1", "web", "web", POD_IP, true)).await;
    let back = only(&next(&mut updates).await);
    assert_eq!(tls_name(&back), Some(identity("web", "cluster.local")));
}
