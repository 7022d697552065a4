use std::time::{Duration, SystemTime};

use super::*;
use crate::{ResourceKind, Scrape};

fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
    let mut all: BTreeMap<String, String> = [
        ("direction", "inbound"),
        ("srv_kind", "server"),
        ("srv_name", "bb"),
        ("route_name", "default"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in labels {
        all.insert((*k).to_owned(), (*v).to_owned());
    }
    Sample {
        name: name.into(),
        labels: all,
        value,
    }
}

fn pods(first: Vec<Sample>, last: Vec<Sample>) -> Vec<PodScrapes> {
    let at = |secs| SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    vec![PodScrapes {
        namespace: "ns".into(),
        pod: "bb-1".into(),
        deployment: Some("bb".into()),
        replicaset: None,
        statefulset: None,
        meshed: true,
        ready: true,
        first: Some(Scrape {
            at: at(100),
            samples: first,
        }),
        last: Some(Scrape {
            at: at(110),
            samples: last,
        }),
    }]
}

fn query() -> Query {
    Query {
        namespace: Some("ns".into()),
        resource: ResourceKind::Deployment,
        name: Some("bb".into()),
        window: Duration::from_secs(60),
    }
}

fn allow(kind: &str, name: &str, value: f64) -> Sample {
    sample(
        "inbound_http_authz_allow_total",
        &[("authz_kind", kind), ("authz_name", name)],
        value,
    )
}

#[test]
fn rows_from_allow_and_deny_with_responses_by_route() {
    let first = vec![
        allow("authorizationpolicy", "bb-authz", 0.0),
        sample("inbound_http_authz_deny_total", &[], 0.0),
        sample("response_total", &[("classification", "success")], 0.0),
        sample("response_total", &[("classification", "failure")], 0.0),
    ];
    let last = vec![
        allow("authorizationpolicy", "bb-authz", 40.0),
        sample("inbound_http_authz_deny_total", &[], 20.0),
        sample("response_total", &[("classification", "success")], 45.0),
        sample("response_total", &[("classification", "failure")], 15.0),
    ];
    let rows = authz_from_scrapes(&query(), &pods(first, last));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].authorization(), "");
    assert!((rows[0].unauthorized_rate - 2.0).abs() < 1e-9);
    assert_eq!((rows[0].request_rate, rows[0].success_rate), (0.0, 0.0));
    assert_eq!(rows[1].authorization(), "authorizationpolicy/bb-authz");
    assert!((rows[1].request_rate - 4.0).abs() < 1e-9);
    assert!((rows[1].success_rate - 0.75).abs() < 1e-9);
    assert_eq!(rows[1].unauthorized_rate, 0.0);
}

#[test]
fn idle_rows_are_hidden_unless_a_named_authorization() {
    let series = vec![
        allow("authorizationpolicy", "bb-authz", 7.0),
        allow("default", "all-unauthenticated", 7.0),
        sample("inbound_http_authz_deny_total", &[], 7.0),
    ];
    let rows = authz_from_scrapes(&query(), &pods(series.clone(), series));
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].authorization(), "authorizationpolicy/bb-authz");
    assert!(!rows[0].has_traffic);
}

#[test]
fn other_resources_are_not_counted() {
    let last = vec![allow("authorizationpolicy", "bb-authz", 40.0)];
    let other = Query {
        name: Some("web".into()),
        ..query()
    };
    assert!(authz_from_scrapes(&other, &pods(vec![], last)).is_empty());
}

/// A Server with HTTPRoutes: a row per route and authorization, each with
/// its own route's responses, and the denials of each route on their own
/// row, as `linkerd viz authz` prints per-route authorization.
#[test]
fn rows_per_route() {
    let on = |route: &str, mut sample: Sample| {
        sample.labels.insert("route_name".into(), route.into());
        sample
    };
    let series = |allowed: f64, denied: f64, ok: f64| {
        vec![
            on(
                "bb-allowed",
                allow("authorizationpolicy", "allowed-authz", allowed),
            ),
            on(
                "bb-allowed",
                sample("response_total", &[("classification", "success")], ok),
            ),
            on(
                "bb-denied",
                sample("inbound_http_authz_deny_total", &[], denied),
            ),
        ]
    };
    let rows = authz_from_scrapes(
        &query(),
        &pods(series(0.0, 0.0, 0.0), series(30.0, 20.0, 30.0)),
    );
    let printed: Vec<(&str, String)> = rows
        .iter()
        .map(|r| (r.route.as_str(), r.authorization()))
        .collect();
    assert_eq!(
        printed,
        [
            (
                "bb-allowed",
                "authorizationpolicy/allowed-authz".to_string()
            ),
            ("bb-denied", String::new()),
        ]
    );
    assert!((rows[0].request_rate - 3.0).abs() < 1e-9);
    assert!((rows[0].success_rate - 1.0).abs() < 1e-9);
    assert!((rows[1].unauthorized_rate - 2.0).abs() < 1e-9);
}
