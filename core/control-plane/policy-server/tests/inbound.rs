//! `InboundServerPolicies` over a real socket: a tonic server on loopback
//! answering from an index fed by a `MemoryStore`, and a tonic client
//! asking as a proxy would.

use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::http_route::{PathMatch, path_match};
use linkerd2_proxy_api::inbound::authn::Permit;
use linkerd2_proxy_api::inbound::authn::permit_mesh_tls::Clients;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use linkerd2_proxy_api::inbound::proxy_protocol::Kind;
use linkerd2_proxy_api::inbound::{Authz, HttpRoute, PortSpec, Server};
use linkerd2_proxy_api::meta::{Metadata, metadata};
use parking_lot::Mutex;
use serde_json::{Value, json};
use strait_policy::{Index, IndexConfig};
use strait_policy_server::{InboundPolicyService, IndexSource, feed};
use strait_store::MemoryStore;
use strait_test_support::eventually_within;
use strait_test_support::grpc::{channel, serve};
use strait_test_support::guide::{EVIL, NS, SLOW_COOKER, workload};
use strait_test_support::objects::{
    http_route, mesh_tls_authentication, route_authorization_policy,
};
use strait_test_support::store::{apply, apply_all, namespaces};
use tokio::sync::watch;
use tonic::Code;
use tonic::service::Routes;
use tonic::transport::Channel;

const PATIENCE: Duration = Duration::from_secs(5);

/// The Gateway API's group, whose HTTPRoutes attach to Servers too.
const GATEWAY: &str = "gateway.networking.k8s.io";

struct Mesh {
    store: MemoryStore,
    client: InboundServerPoliciesClient<Channel>,
    /// The channel the service reads, kept to count its subscribers.
    changes: Arc<watch::Sender<u64>>,
}

/// A `bb` pod of the guide: `http` on 8080, and an admin container with
/// liveness and readiness probes on 9990.
fn bb_pod(name: &str) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": NS, "labels": {"app": "bb"}},
        "spec": {"containers": [
            {"name": "bb", "ports": [{"name": "http", "containerPort": 8080}]},
            {"name": "admin", "ports": [{"name": "admin", "containerPort": 9990}],
             "livenessProbe": {"httpGet": {"path": "/live", "port": 9990}},
             "readinessProbe": {"httpGet": {"path": "/ready", "port": "admin"}}}
        ]}
    })
}

/// Step 6 of the pod-to-pod guide, as written there.
fn apply_guide_policy(store: &MemoryStore) {
    apply_all(store, strait_test_support::guide::policy(8080));
}

async fn start() -> Mesh {
    let store = MemoryStore::new();
    namespaces(&store, &[NS]);
    apply(&store, bb_pod("bb-1"));

    let index = Arc::new(Mutex::new(Index::new(IndexConfig::default())));
    let (publish, mut fed) = watch::channel(0);
    tokio::spawn(feed(store.clone(), index.clone(), publish));
    // A relay between the feeder and the service, so the test holds the
    // sending end the service's subscriptions are counted on.
    let (relay, changes) = watch::channel(0);
    let relay = Arc::new(relay);
    let relaying = relay.clone();
    tokio::spawn(async move {
        while fed.changed().await.is_ok() {
            let generation = *fed.borrow_and_update();
            relaying.send_replace(generation);
        }
    });

    let service = InboundPolicyService::new(IndexSource::new(index, changes)).into_server();
    let addr = serve(Routes::new(service)).await;
    let client = InboundServerPoliciesClient::new(channel(addr).await);
    Mesh {
        store,
        client,
        changes: relay,
    }
}

fn spec(workload: &str, port: u32) -> PortSpec {
    PortSpec {
        workload: workload.to_string(),
        port,
    }
}

fn bb_1() -> String {
    workload(NS, "bb-1")
}

/// The server's name label, as the proxy reads it into `srv_name`.
fn server_name(server: &Server) -> String {
    server.labels.get("name").cloned().unwrap_or_default()
}

/// `kind/name` of an authorization or route, as `viz authz` prints it.
fn meta_name(meta: Option<&Metadata>) -> String {
    match meta.and_then(|m| m.kind.as_ref()) {
        Some(metadata::Kind::Default(name)) => format!("default/{name}"),
        Some(metadata::Kind::Resource(r)) => format!("{}/{}", r.kind, r.name),
        None => "<none>".to_string(),
    }
}

fn authz_names(authzs: &[Authz]) -> Vec<String> {
    authzs
        .iter()
        .map(|a| meta_name(a.metadata.as_ref()))
        .collect()
}

fn detect_routes(server: &Server) -> &[HttpRoute] {
    match server.protocol.as_ref().and_then(|p| p.kind.as_ref()) {
        Some(Kind::Detect(detect)) => &detect.http_routes,
        other => panic!("expected protocol detection, got {other:?}"),
    }
}

/// Asks until the answer satisfies `ready`: the feeder applies the store's
/// contents asynchronously.
async fn get_when(mesh: &mut Mesh, port: u32, ready: impl Fn(&Server) -> bool) -> Server {
    get_pod_when(mesh, "bb-1", port, ready).await
}

#[tokio::test]
async fn the_guides_policy_admits_only_slow_cooker() {
    let mut mesh = start().await;
    apply_guide_policy(&mesh.store);
    let server = get_when(&mut mesh, 8080, |s| {
        server_name(s) == "bb"
            && authz_names(&s.authorizations)[0] == "authorizationpolicy/bb-authz"
    })
    .await;

    assert_eq!(
        server.labels.get("group").map(String::as_str),
        Some("policy.linkerd.io")
    );
    assert_eq!(
        server.labels.get("kind").map(String::as_str),
        Some("server")
    );
    // One authorization from the policy; loopback is always admitted too.
    assert_eq!(
        authz_names(&server.authorizations),
        ["authorizationpolicy/bb-authz", "default/localhost"]
    );
    let bb_authz = &server.authorizations[0];
    match bb_authz.metadata.as_ref().and_then(|m| m.kind.as_ref()) {
        Some(metadata::Kind::Resource(r)) => {
            assert_eq!(
                (r.group.as_str(), r.name.as_str()),
                ("policy.linkerd.io", "bb-authz")
            );
        }
        other => panic!("expected a resource, got {other:?}"),
    }
    assert_eq!(
        bb_authz.labels.get("kind").map(String::as_str),
        Some("authorizationpolicy")
    );
    assert_eq!(
        bb_authz.labels.get("name").map(String::as_str),
        Some("bb-authz")
    );
    match bb_authz
        .authentication
        .as_ref()
        .and_then(|a| a.permit.as_ref())
    {
        Some(Permit::MeshTls(tls)) => match &tls.clients {
            Some(Clients::Identities(ids)) => {
                let names: Vec<&str> = ids.identities.iter().map(|i| i.name.as_str()).collect();
                assert_eq!(names, [SLOW_COOKER]);
                assert!(ids.suffixes.is_empty(), "suffixes: {:?}", ids.suffixes);
            }
            other => panic!("expected identities, got {other:?}"),
        },
        other => panic!("expected mesh TLS, got {other:?}"),
    }
    // From anywhere: both families, whole ranges.
    let prefixes: Vec<u32> = bb_authz
        .networks
        .iter()
        .map(|n| n.net.map(|net| net.prefix_len).unwrap_or(99))
        .collect();
    assert_eq!(prefixes, [0, 0]);

    let routes = detect_routes(&server);
    assert_eq!(routes.len(), 1);
    assert_eq!(meta_name(routes[0].metadata.as_ref()), "default/default");
    assert_eq!(
        authz_names(&routes[0].authorizations)[0],
        "authorizationpolicy/bb-authz"
    );
}

#[tokio::test]
async fn a_port_without_a_server_gets_the_default_with_a_probe_route() {
    let mut mesh = start().await;
    let server = get_when(&mut mesh, 9990, |_| true).await;

    assert_eq!(server_name(&server), "all-unauthenticated");
    assert_eq!(
        server.labels.get("kind").map(String::as_str),
        Some("default")
    );
    assert_eq!(
        authz_names(&server.authorizations),
        ["default/all-unauthenticated", "default/localhost"]
    );
    assert!(matches!(
        server.authorizations[0]
            .authentication
            .as_ref()
            .and_then(|a| a.permit.as_ref()),
        Some(Permit::Unauthenticated(_))
    ));

    let routes = detect_routes(&server);
    let names: Vec<String> = routes
        .iter()
        .map(|r| meta_name(r.metadata.as_ref()))
        .collect();
    assert_eq!(names, ["default/probe", "default/default"]);
    let probe = &routes[0];
    assert_eq!(authz_names(&probe.authorizations)[0], "default/probe");
    let mut paths: Vec<String> = probe.rules[0]
        .matches
        .iter()
        .map(|m| match m.path {
            Some(PathMatch {
                kind: Some(path_match::Kind::Exact(ref p)),
            }) => p.clone(),
            ref other => panic!("expected an exact path, got {other:?}"),
        })
        .collect();
    paths.sort();
    assert_eq!(paths, ["/live", "/ready"]);
}

#[tokio::test]
async fn watch_port_sends_an_update_when_a_policy_is_added() {
    let mut mesh = start().await;
    get_when(&mut mesh, 8080, |_| true).await;
    let baseline = mesh.changes.receiver_count();

    let mut updates = mesh
        .client
        .watch_port(spec("mc-demo:bb-1", 8080))
        .await
        .expect("watch")
        .into_inner();
    let first = updates.message().await.expect("first").expect("open");
    assert_eq!(server_name(&first), "all-unauthenticated");

    apply_guide_policy(&mesh.store);
    let secured = tokio::time::timeout(PATIENCE, async {
        loop {
            let next = updates.message().await.expect("update").expect("open");
            if authz_names(&next.authorizations)
                .first()
                .map(String::as_str)
                == Some("authorizationpolicy/bb-authz")
            {
                return next;
            }
        }
    })
    .await
    .expect("an update with the policy");
    assert_eq!(server_name(&secured), "bb");

    // The watch holds a subscription while it runs and lets it go when the
    // client goes away.
    assert!(mesh.changes.receiver_count() > baseline);
    drop(updates);
    let released = tokio::time::timeout(PATIENCE, async {
        while mesh.changes.receiver_count() != baseline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(released.is_ok(), "the watch outlived its client");
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_field_named() {
    let mut mesh = start().await;
    get_when(&mut mesh, 8080, |_| true).await;

    for workload in ["bb-1", r#"{"ns":"mc-demo"}"#, r#"{"ns": 3}"#] {
        let status = mesh
            .client
            .get_port(spec(workload, 8080))
            .await
            .expect_err("refused");
        assert_eq!(
            status.code(),
            Code::InvalidArgument,
            "{workload}: {status:?}"
        );
        assert!(
            status.message().starts_with("workload:"),
            "{}",
            status.message()
        );
        let watch = mesh.client.watch_port(spec(workload, 8080)).await;
        assert_eq!(watch.err().map(|s| s.code()), Some(Code::InvalidArgument));
    }
    let status = mesh
        .client
        .get_port(spec(&bb_1(), 70_000))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().starts_with("port:"),
        "{}",
        status.message()
    );

    let unknown = workload(NS, "nobody");
    let status = mesh
        .client
        .get_port(spec(&unknown, 8080))
        .await
        .expect_err("unknown pod");
    assert_eq!(status.code(), Code::NotFound);
}

/// Asks about `pod`'s `port` until the answer satisfies `ready`.
async fn get_pod_when(
    mesh: &mut Mesh,
    pod: &str,
    port: u32,
    ready: impl Fn(&Server) -> bool,
) -> Server {
    let workload = workload(NS, pod);
    let what = format!("a ready policy for {pod}:{port}");
    eventually_within(PATIENCE, what, async || {
        let server = mesh.client.get_port(spec(&workload, port)).await.ok()?;
        Some(server.into_inner()).filter(|server| ready(server))
    })
    .await
}

/// What a proxy needs of one authorization: its name, whether it requires
/// a mesh identity, and how many networks it admits clients from.
fn authz_shape(authz: &Authz) -> (String, &'static str, usize) {
    let permit = match authz
        .authentication
        .as_ref()
        .and_then(|a| a.permit.as_ref())
    {
        Some(Permit::Unauthenticated(_)) => "unauthenticated",
        Some(Permit::MeshTls(_)) => "mesh-tls",
        None => "none",
    };
    (
        meta_name(authz.metadata.as_ref()),
        permit,
        authz.networks.len(),
    )
}

#[tokio::test]
async fn every_default_policy_is_served_under_linkerds_name() {
    let mut mesh = start().await;
    let all = 2; // 0.0.0.0/0 and ::/0
    let cluster = strait_policy::LINKERD_CLUSTER_NETWORKS.len();
    let localhost = ("default/localhost".to_string(), "unauthenticated", 2);
    let expected = [
        (
            "all-unauthenticated",
            vec![
                (
                    "default/all-unauthenticated".to_string(),
                    "unauthenticated",
                    all,
                ),
                localhost.clone(),
            ],
        ),
        (
            "all-authenticated",
            vec![
                ("default/all-authenticated".to_string(), "mesh-tls", all),
                localhost.clone(),
            ],
        ),
        (
            "cluster-unauthenticated",
            vec![
                (
                    "default/cluster-unauthenticated".to_string(),
                    "unauthenticated",
                    cluster,
                ),
                localhost.clone(),
            ],
        ),
        (
            "cluster-authenticated",
            vec![
                (
                    "default/cluster-authenticated".to_string(),
                    "mesh-tls",
                    cluster,
                ),
                localhost.clone(),
            ],
        ),
        ("deny", vec![localhost.clone()]),
        (
            "audit",
            vec![
                ("default/audit".to_string(), "unauthenticated", all),
                localhost.clone(),
            ],
        ),
    ];
    for (policy, authorizations) in expected {
        let pod = format!("bb-{policy}");
        let mut manifest = bb_pod(&pod);
        manifest["metadata"]["annotations"] =
            json!({"config.linkerd.io/default-inbound-policy": policy});
        apply(&mesh.store, manifest);
        let server = get_pod_when(&mut mesh, &pod, 8080, |_| true).await;
        assert_eq!(server_name(&server), policy);
        assert_eq!(
            server.labels.get("kind").map(String::as_str),
            Some("default"),
            "{policy}"
        );
        let shapes: Vec<_> = server.authorizations.iter().map(authz_shape).collect();
        assert_eq!(shapes, authorizations, "{policy}");
    }
}

#[tokio::test]
async fn a_policy_naming_a_missing_authentication_is_ignored_until_it_exists() {
    let mut mesh = start().await;
    let [server, authorization, authentication] = strait_test_support::guide::policy(8080);
    apply(&mesh.store, server);
    apply(&mesh.store, authorization);
    // The Server applies; the policy does not, so nothing but loopback is
    // admitted (a Server without authorizations denies).
    let server = get_when(&mut mesh, 8080, |s| server_name(s) == "bb").await;
    assert_eq!(authz_names(&server.authorizations), ["default/localhost"]);

    apply(&mesh.store, authentication);
    let server = get_when(&mut mesh, 8080, |s| s.authorizations.len() == 2).await;
    assert_eq!(
        authz_names(&server.authorizations),
        ["authorizationpolicy/bb-authz", "default/localhost"]
    );
}

/// The routes of a Server with HTTPRoutes as a proxy reads them: one
/// `HttpRoute` per HTTPRoute (no default or probe route, so anything else
/// is a 404), each carrying the policies that target it before the
/// Server's, and the Server's own list without the route's.
#[tokio::test]
async fn route_authorizations_travel_on_their_route() {
    let mut mesh = start().await;
    apply_guide_policy(&mesh.store);
    apply_all(
        &mesh.store,
        [
            http_route(NS, "bb-allowed", "policy.linkerd.io", "bb", "/allowed"),
            http_route(NS, "bb-denied", GATEWAY, "bb", "/denied"),
            mesh_tls_authentication(NS, "bb-evil", &[EVIL]),
            route_authorization_policy(
                NS,
                "evil-on-allowed",
                "policy.linkerd.io",
                "bb-allowed",
                "bb-evil",
            ),
        ],
    );
    let server = get_when(&mut mesh, 8080, |s| {
        let routes = detect_routes(s);
        routes.len() == 2 && routes.iter().all(|r| r.authorizations.len() >= 2)
    })
    .await;
    assert_eq!(
        authz_names(&server.authorizations),
        ["authorizationpolicy/bb-authz", "default/localhost"]
    );
    let routes = detect_routes(&server);
    let route = |name: &str| match routes.iter().find(|r| route_resource(r).2 == name) {
        Some(route) => route,
        None => panic!("no route {name} in {routes:?}"),
    };
    let allowed = route("bb-allowed");
    assert_eq!(
        route_resource(allowed),
        (
            "policy.linkerd.io".into(),
            "HTTPRoute".into(),
            "bb-allowed".into()
        )
    );
    assert_eq!(
        authz_names(&allowed.authorizations),
        [
            "authorizationpolicy/evil-on-allowed",
            "authorizationpolicy/bb-authz",
            "default/localhost"
        ]
    );
    let matched: Vec<_> = allowed.rules[0].matches.iter().map(|m| &m.path).collect();
    assert_eq!(
        matched,
        [&Some(PathMatch {
            kind: Some(path_match::Kind::Prefix("/allowed".into()))
        })]
    );
    let denied = route("bb-denied");
    assert_eq!(route_resource(denied).0, GATEWAY);
    assert_eq!(
        authz_names(&denied.authorizations),
        ["authorizationpolicy/bb-authz", "default/localhost"]
    );
}

/// The group, kind and name of a route's resource metadata.
fn route_resource(route: &HttpRoute) -> (String, String, String) {
    match route.metadata.as_ref().and_then(|m| m.kind.as_ref()) {
        Some(metadata::Kind::Resource(r)) => (r.group.clone(), r.kind.clone(), r.name.clone()),
        other => (String::new(), format!("{other:?}"), String::new()),
    }
}
