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

/// `sample` as Linkerd's proxy writes the `inbound_*` families: without a
/// `direction` label, inbound by the family's name.
fn without_direction(mut sample: Sample) -> Sample {
    sample.labels.remove("direction");
    sample
}

#[test]
fn linkerd_proxies_authz_series_without_a_direction_are_inbound() {
    let first = vec![
        without_direction(allow("authorizationpolicy", "bb-authz", 0.0)),
        without_direction(sample("inbound_http_authz_deny_total", &[], 0.0)),
    ];
    let last = vec![
        without_direction(allow("authorizationpolicy", "bb-authz", 40.0)),
        without_direction(sample("inbound_http_authz_deny_total", &[], 20.0)),
        // A family not named for a side counts only with its label.
        without_direction(sample(
            "response_total",
            &[("classification", "failure")],
            9.0,
        )),
    ];
    let rows = authz_from_scrapes(&query(), &pods(first, last));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!((rows[0].unauthorized_rate - 2.0).abs() < 1e-9, "{rows:?}");
    assert!((rows[1].request_rate - 4.0).abs() < 1e-9, "{rows:?}");
    assert_eq!(rows[1].success_rate, 0.0, "{rows:?}");
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

/// The decisions of a window that spans a hot swap name both plugin
/// versions; `-o wide` prints them, a version that decided nothing in the
/// window is left out, and the other formats are Linkerd's, unchanged.
#[test]
fn the_plugin_versions_behind_the_decisions_are_shown_wide() {
    let versioned = |name: &str, authz: Option<(&str, &str)>, version: &str, value: f64| {
        let mut labels = vec![("plugin_version", version)];
        if let Some((kind, authz_name)) = authz {
            labels.push(("authz_kind", kind));
            labels.push(("authz_name", authz_name));
        }
        sample(name, &labels, value)
    };
    let allow_total = "inbound_http_authz_allow_total";
    let deny_total = "inbound_http_authz_deny_total";
    let policy = Some(("authorizationpolicy", "bb-authz"));
    let first = vec![
        versioned(allow_total, policy, "1.0.0", 100.0),
        versioned(deny_total, None, "1.0.0", 10.0),
        versioned(deny_total, None, "0.9.0", 7.0),
    ];
    let last = vec![
        versioned(allow_total, policy, "1.0.0", 150.0),
        versioned(allow_total, policy, "1.1.0", 50.0),
        versioned(deny_total, None, "1.0.0", 10.0),
        versioned(deny_total, None, "0.9.0", 7.0),
        versioned(deny_total, None, "1.1.0", 20.0),
    ];
    let rows = authz_from_scrapes(&query(), &pods(first, last));
    let versions: Vec<(String, Vec<String>)> = rows
        .iter()
        .map(|r| (r.authorization(), r.plugin_versions.clone()))
        .collect();
    assert_eq!(
        versions,
        [
            (String::new(), vec!["1.1.0".to_owned()]),
            (
                "authorizationpolicy/bb-authz".to_owned(),
                vec!["1.0.0".to_owned(), "1.1.0".to_owned()]
            ),
        ]
    );
    let wide = crate::format_authz(&rows, crate::Output::Wide);
    let mut lines = wide.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .trim_end()
            .ends_with("LATENCY_P99  PLUGIN_VERSION"),
        "{wide}"
    );
    assert!(
        lines.next().unwrap().trim_end().ends_with("  1.1.0"),
        "{wide}"
    );
    assert!(
        lines.next().unwrap().trim_end().ends_with("  1.0.0,1.1.0"),
        "{wide}"
    );
    let table = crate::format_authz(&rows, crate::Output::Table);
    assert!(
        !table.contains("PLUGIN_VERSION") && !table.contains("1.1.0"),
        "{table}"
    );
    let json = crate::format_authz(&rows, crate::Output::Json);
    assert!(!json.contains("1.1.0"), "{json}");
}
