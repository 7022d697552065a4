//! A federated Service end to end: `strait local up` on a copy of
//! `examples/federated`, where bb runs in east and (as Deployment bb-west)
//! in west, both Services labelled `mirror.linkerd.io/federated=member`, and
//! slow-cooker in west sends to `bb-federated.mc-demo.svc.cluster.local:8080`.
//! Requests are spread over both clusters (by the pods that answer them),
//! and none fails on the client side while east's pods go away and come
//! back, and while east's Service leaves the federation and joins again.

#[path = "support/guide.rs"]
#[allow(dead_code)]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::collections::BTreeMap;
use std::time::Duration;

use guide::{Workspace, assert_rate, eventually, http_get, rate};

/// The rate the example's slow-cooker sends at.
const QPS: f64 = 10.0;
/// How long after a change the 15 s window holds only the new traffic.
const SETTLE: Duration = Duration::from_secs(17);

/// What slow-cooker's proxy counted of its requests to bb-federated: the
/// successful responses by the Deployment of the pod that answered, the
/// failed ones, and the requests sent.
#[derive(Debug, Default)]
struct ClientCounts {
    answered_by: BTreeMap<String, u64>,
    failed: u64,
    sent: u64,
}

impl ClientCounts {
    fn answered(&self) -> u64 {
        self.answered_by.values().sum()
    }
}

/// The value of label `name` in one exposition line.
fn label<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let start = line.find(&format!("{name}=\""))? + name.len() + 2;
    let rest = &line[start..];
    Some(&rest[..rest.find('"')?])
}

/// Reads slow-cooker's proxy metrics (its admin port on the pod's address).
fn client_counts(ws: &Workspace) -> ClientCounts {
    let pod = ws
        .pods("west")
        .into_iter()
        .find(|p| {
            p["metadata"]["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("slow-cooker"))
        })
        .expect("slow-cooker's pod in west");
    let ip = pod["status"]["podIP"]
        .as_str()
        .expect("slow-cooker's address");
    let metrics = http_get(&format!("{ip}:4191"), "/metrics");
    let mut counts = ClientCounts::default();
    for line in metrics.lines() {
        if !line.contains("direction=\"outbound\"")
            || label(line, "authority").is_some_and(|a| !a.starts_with("bb-federated"))
        {
            continue;
        }
        let value = line
            .rsplit(' ')
            .next()
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0) as u64;
        if line.starts_with("request_total{") {
            counts.sent += value;
        } else if line.starts_with("response_total{") {
            if label(line, "classification") == Some("success") {
                let deployment = label(line, "dst_deployment").unwrap_or("").to_string();
                *counts.answered_by.entry(deployment).or_default() += value;
            } else {
                counts.failed += value;
            }
        }
    }
    counts
}

/// The RPS `viz stat` gives `deployment` in `cluster` over the last 15 s;
/// 0 when it served nothing.
fn served(ws: &Workspace, cluster: &str, deployment: &str) -> f64 {
    ws.viz(cluster, "stat", "15s", &[])
        .row("NAME", deployment)
        .map_or(0.0, |row| rate(&row["RPS"]))
}

/// Applies east's bb with `replicas` pods.
fn scale_east(ws: &Workspace, replicas: u32) {
    let file = ws.root.join(format!("bb-{replicas}.yaml"));
    let text = std::fs::read_to_string(ws.path("east/bb.yaml")).unwrap();
    assert!(text.contains("replicas: 1"), "{text}");
    std::fs::write(
        &file,
        text.replacen("replicas: 1", &format!("replicas: {replicas}"), 1),
    )
    .unwrap();
    let out = ws.ok(&["--context", "east", "apply", "-f", &file.to_string_lossy()]);
    assert!(out.contains("deployment.apps/bb"), "{out}");
}

/// The members `bb-federated` lists in west, by its discovery annotations.
fn members(ws: &Workspace) -> (Option<String>, Option<String>) {
    let out = ws.ok(&[
        "--context",
        "west",
        "-n",
        "mc-demo",
        "get",
        "svc",
        "bb-federated",
        "-o",
        "json",
    ]);
    let svc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let annotation = |key: &str| {
        svc["metadata"]["annotations"][key]
            .as_str()
            .map(str::to_string)
    };
    (
        annotation("multicluster.linkerd.io/local-discovery"),
        annotation("multicluster.linkerd.io/remote-discovery"),
    )
}

/// Asserts slow-cooker lost nothing so far: no failed response, and every
/// request sent answered (but for one that may be in flight).
fn assert_nothing_failed(ws: &Workspace, when: &str) -> ClientCounts {
    let counts = client_counts(ws);
    assert_eq!(counts.failed, 0, "{when}: failed requests: {counts:?}");
    assert!(
        counts.sent >= counts.answered() && counts.sent - counts.answered() <= 1,
        "{when}: requests without an answer: {counts:?}"
    );
    counts
}

#[test]
fn requests_spread_over_both_clusters_and_none_fails_as_members_come_and_go() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::of_example("federated", "federated", &[]);
    let up = ws.local_up(&[]);
    eventually(Duration::from_secs(20), "bb-federated in west", || {
        (members(&ws) == (Some("bb".into()), Some("bb@target".into()))).then_some(())
    });

    // Both clusters serve: east's bb and west's bb-west, about ten
    // requests a second together.
    up.sleep_until(SETTLE + Duration::from_secs(5));
    let (east, west) = (served(&ws, "east", "bb"), served(&ws, "west", "bb-west"));
    assert!(east > 0.0 && west > 0.0, "east {east} rps, west {west} rps");
    assert!(
        ((QPS * 0.85)..=(QPS * 1.15)).contains(&(east + west)),
        "east {east} + west {west} rps, not about {QPS}"
    );
    let before = assert_nothing_failed(&ws, "both clusters serving");
    assert!(
        before.answered_by.get("bb").is_some_and(|n| *n > 0)
            && before.answered_by.get("bb-west").is_some_and(|n| *n > 0),
        "answered by: {before:?}"
    );

    // East's pods go away: west serves everything, nothing fails.
    scale_east(&ws, 0);
    eventually(Duration::from_secs(20), "east's bb pod gone", || {
        let pods = ws.ok(&[
            "--context",
            "east",
            "-n",
            "mc-demo",
            "get",
            "pods",
            "-o",
            "name",
        ]);
        (!pods.contains("pod/bb")).then_some(())
    });
    std::thread::sleep(SETTLE);
    assert_rate(
        &format!("{}rps", served(&ws, "west", "bb-west")),
        QPS,
        0.15,
        "west alone while east has no pod",
    );
    assert!(served(&ws, "east", "bb") < 0.5, "east serves with no pod");
    let alone = assert_nothing_failed(&ws, "east scaled to zero");

    // East's pod comes back and serves again.
    scale_east(&ws, 1);
    eventually(Duration::from_secs(40), "east serving again", || {
        (served(&ws, "east", "bb") > 0.0).then_some(())
    });
    let back = assert_nothing_failed(&ws, "east scaled back");
    assert!(
        back.answered_by.get("bb") > alone.answered_by.get("bb"),
        "east answers again: {back:?} after {alone:?}"
    );

    // East's Service leaves the federation (its label removed) and joins
    // again; its pod keeps running meanwhile.
    ws.ok(&[
        "--context",
        "east",
        "-n",
        "mc-demo",
        "label",
        "svc/bb",
        "mirror.linkerd.io/federated-",
    ]);
    eventually(Duration::from_secs(20), "east's member removed", || {
        (members(&ws) == (Some("bb".into()), None)).then_some(())
    });
    std::thread::sleep(SETTLE);
    assert!(
        served(&ws, "east", "bb") < 0.5,
        "east serves outside the federation"
    );
    let left = assert_nothing_failed(&ws, "east's member left");
    ws.ok(&[
        "--context",
        "east",
        "-n",
        "mc-demo",
        "label",
        "svc/bb",
        "mirror.linkerd.io/federated=member",
    ]);
    eventually(
        Duration::from_secs(40),
        "east serving as a member again",
        || (served(&ws, "east", "bb") > 0.0).then_some(()),
    );
    let last = assert_nothing_failed(&ws, "east's member back");
    assert!(
        last.answered_by.get("bb") > left.answered_by.get("bb"),
        "east answers again: {last:?} after {left:?}"
    );
    up.stop();
}
