use linkerd2_proxy_api::http_route::path_match;
use linkerd2_proxy_api::meta::metadata;
use linkerd2_proxy_api::outbound::backend::{self, balance_p2c};
use linkerd2_proxy_api::outbound::http_route::{distribution, filter};
use linkerd2_proxy_api::outbound::{Backend, HttpRoute, proxy_protocol};
use strait_api::policy::httproute::HttpRouteMatch as RouteMatch;
use strait_policy::{
    OutboundPolicy, OutboundRoute, OutboundRule, RouteBackend, RouteRef, ServiceRef,
};

use super::*;

fn bb() -> ServiceRef {
    ServiceRef {
        namespace: "mc-demo".into(),
        name: "bb".into(),
    }
}

fn policy(opaque: bool, routes: Vec<OutboundRoute>) -> OutboundPolicy {
    OutboundPolicy {
        service: bb(),
        port: 8080,
        authority: "bb.mc-demo.svc.cluster.local:8080".into(),
        opaque,
        routes,
    }
}

fn detect(policy: &api::OutboundPolicy) -> &proxy_protocol::Detect {
    match policy.protocol.as_ref().and_then(|p| p.kind.as_ref()) {
        Some(proxy_protocol::Kind::Detect(detect)) => detect,
        other => panic!("not Detect: {other:?}"),
    }
}

fn http1_routes(policy: &api::OutboundPolicy) -> &[HttpRoute] {
    match detect(policy).http1.as_ref() {
        Some(http1) => &http1.routes,
        None => panic!("no http1"),
    }
}

/// The Service balancer every default route and opaque route sends to,
/// with the fields the proxy refuses a backend without.
fn assert_service_backend(backend: Option<&Backend>, dst: &str) {
    let Some(backend) = backend else {
        panic!("no backend")
    };
    let queue = backend
        .queue
        .as_ref()
        .map(|q| (q.capacity, q.failfast_timeout));
    assert_eq!(queue, Some((100, QUEUE_FAILFAST.try_into().ok())));
    let Some(metadata::Kind::Resource(resource)) =
        backend.metadata.as_ref().and_then(|m| m.kind.as_ref())
    else {
        panic!("backend metadata is no resource")
    };
    assert_eq!(
        (resource.group.as_str(), resource.kind.as_str()),
        ("core", "Service")
    );
    let Some(backend::Kind::Balancer(balancer)) = &backend.kind else {
        panic!("not a balancer")
    };
    let path = balancer
        .discovery
        .as_ref()
        .and_then(|d| d.kind.as_ref())
        .map(|backend::endpoint_discovery::Kind::Dst(dst)| dst.path.as_str());
    assert_eq!(path, Some(dst));
    let Some(balance_p2c::Load::PeakEwma(ewma)) = &balancer.load else {
        panic!("no PeakEwma")
    };
    assert_eq!(ewma.default_rtt, BALANCER_DEFAULT_RTT.try_into().ok());
    assert_eq!(ewma.decay, BALANCER_RTT_DECAY.try_into().ok());
}

#[test]
fn no_route_is_linkerds_default_detect_policy() {
    let proto = to_outbound_policy(&policy(false, Vec::new()));
    let Some(metadata::Kind::Resource(parent)) =
        proto.metadata.as_ref().and_then(|m| m.kind.as_ref())
    else {
        panic!("no parent metadata")
    };
    assert_eq!(
        (
            parent.group.as_str(),
            parent.kind.as_str(),
            parent.name.as_str()
        ),
        ("core", "Service", "bb")
    );
    assert_eq!((parent.namespace.as_str(), parent.port), ("mc-demo", 8080));
    let detect = detect(&proto);
    assert_eq!(detect.timeout, DETECT_TIMEOUT.try_into().ok());
    assert!(detect.opaque.is_some() && detect.http2.is_some());
    let routes = http1_routes(&proto);
    assert_eq!(routes.len(), 1);
    let route = &routes[0];
    assert_eq!(
        route.metadata.as_ref().and_then(|m| m.kind.clone()),
        Some(metadata::Kind::Default("http".into()))
    );
    let rule = &route.rules[0];
    let path = rule.matches[0].path.as_ref().and_then(|p| p.kind.clone());
    assert_eq!(path, Some(path_match::Kind::Prefix("/".into())));
    let Some(distribution::Kind::FirstAvailable(first)) =
        rule.backends.as_ref().and_then(|d| d.kind.as_ref())
    else {
        panic!("not FirstAvailable")
    };
    assert_service_backend(
        first.backends[0].backend.as_ref(),
        "bb.mc-demo.svc.cluster.local:8080",
    );
}

#[test]
fn an_opaque_port_has_the_default_opaque_route() {
    let proto = to_outbound_policy(&policy(true, Vec::new()));
    let Some(proxy_protocol::Kind::Opaque(opaque)) =
        proto.protocol.as_ref().and_then(|p| p.kind.as_ref())
    else {
        panic!("not Opaque")
    };
    let route = &opaque.routes[0];
    assert_eq!(
        route.metadata.as_ref().and_then(|m| m.kind.clone()),
        Some(metadata::Kind::Default("opaq".into()))
    );
    let Some(opaque_route::distribution::Kind::FirstAvailable(first)) = route.rules[0]
        .backends
        .as_ref()
        .and_then(|d| d.kind.as_ref())
    else {
        panic!("not FirstAvailable")
    };
    assert_service_backend(
        first.backends[0].backend.as_ref(),
        "bb.mc-demo.svc.cluster.local:8080",
    );
}

#[test]
fn backend_refs_are_weighted_and_a_missing_service_fails_with_500() {
    let route = OutboundRoute {
        reference: RouteRef {
            group: "gateway.networking.k8s.io",
            namespace: "mc-demo".into(),
            name: "split".into(),
        },
        hosts: vec!["*.example.com".into()],
        rules: vec![OutboundRule {
            matches: vec![RouteMatch::default()],
            backends: vec![
                RouteBackend::Service {
                    service: bb(),
                    port: 8080,
                    weight: 3,
                    authority: "bb.mc-demo.svc.cluster.local:8080".into(),
                },
                RouteBackend::Invalid {
                    weight: 1,
                    message: "Service not found gone".into(),
                },
            ],
        }],
    };
    let proto = to_outbound_policy(&policy(false, vec![route]));
    let route = &http1_routes(&proto)[0];
    let Some(metadata::Kind::Resource(meta)) =
        route.metadata.as_ref().and_then(|m| m.kind.as_ref())
    else {
        panic!("no route metadata")
    };
    assert_eq!(
        (meta.group.as_str(), meta.kind.as_str(), meta.name.as_str()),
        ("gateway.networking.k8s.io", "HTTPRoute", "split")
    );
    assert_eq!(route.hosts.len(), 1);
    let Some(distribution::Kind::RandomAvailable(random)) = route.rules[0]
        .backends
        .as_ref()
        .and_then(|d| d.kind.as_ref())
    else {
        panic!("not RandomAvailable")
    };
    let weights: Vec<u32> = random.backends.iter().map(|b| b.weight).collect();
    assert_eq!(weights, vec![3, 1]);
    let good = random.backends[0].backend.as_ref();
    assert_service_backend(
        good.and_then(|b| b.backend.as_ref()),
        "bb.mc-demo.svc.cluster.local:8080",
    );
    let Some(bad) = random.backends[1].backend.as_ref() else {
        panic!("no invalid backend")
    };
    let backend = bad.backend.as_ref();
    assert!(backend.is_some_and(|b| b.kind.is_none() && b.queue.is_some()));
    let failure = bad.filters.first().and_then(|f| f.kind.as_ref());
    let Some(filter::Kind::FailureInjector(failure)) = failure else {
        panic!("no failure injector")
    };
    assert_eq!(failure.status, 500);
    assert_eq!(failure.message, "Service not found gone");
}
