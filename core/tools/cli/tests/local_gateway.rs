//! The gateway example end to end: `strait local up --duration 40s` on a
//! copy of `examples/gateway`, as a user runs it. West's slow-cooker and
//! slow-cooker-evil reach bb in east through east's gateway pod, and the
//! guide's policy (only slow-cooker) holds there: the gateway names the
//! client whose mTLS it verified, and bb's proxy authorizes that client.
//! Checked from both ends: each client's own proxy counts what it was
//! answered, and bb's tables count what bb admitted and refused.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::collections::BTreeMap;
use std::time::Duration;

use guide::{Workspace, assert_rate, eventually, http_get, section};

/// The rate each of the example's clients sends at.
const QPS: f64 = 10.0;

/// What the outbound side of the proxy at `admin` (`ip:4191`) was
/// answered, as `response_total` counts it: responses by status code.
fn outbound_answers(admin: &str) -> BTreeMap<String, f64> {
    let text = http_get(admin, "/metrics");
    let mut answers = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| l.starts_with("response_total{") && l.contains("direction=\"outbound\""))
    {
        let Some(code) = line
            .split("status_code=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let count: f64 = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {line:?}"));
        *answers.entry(code.to_string()).or_default() += count;
    }
    answers
}

/// The admin address of the proxy of the `app` pod in west.
fn admin_of(ws: &Workspace, app: &str) -> String {
    let pods = ws.pods("west");
    let pod = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app"] == app)
        .unwrap_or_else(|| panic!("no {app} pod in west: {pods:?}"));
    let ip = pod["status"]["podIP"].as_str().expect("a pod address");
    format!("{ip}:4191")
}

#[test]
fn the_guides_policy_holds_through_easts_gateway() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::of_example("gateway", "final", &[]);
    let up = ws.local_up(&["--duration", "40s"]);

    // The clients' side: slow-cooker is answered 200 only, and
    // slow-cooker-evil 403 only (refused by bb's policy, not failed).
    let slow_cooker = admin_of(&ws, "slow-cooker");
    let evil = admin_of(&ws, "slow-cooker-evil");
    eventually(Duration::from_secs(30), "both clients answered", || {
        let ok = outbound_answers(&slow_cooker).get("200").copied();
        let refused = outbound_answers(&evil).get("403").copied();
        (ok > Some(20.0) && refused > Some(20.0)).then_some(())
    });
    up.sleep_until(Duration::from_secs(30));
    let answered = outbound_answers(&slow_cooker);
    assert_eq!(answered.keys().collect::<Vec<_>>(), ["200"], "{answered:?}");
    let refused = outbound_answers(&evil);
    assert_eq!(refused.keys().collect::<Vec<_>>(), ["403"], "{refused:?}");

    let out = up.wait(Duration::from_secs(60));
    // bb serves slow-cooker's requests alone, all of them.
    let stat = section(&out, "east", "viz stat -n mc-demo deploy");
    let bb = stat.row("NAME", "bb").expect("bb in the final viz stat");
    assert_eq!(bb["MESHED"], "1/1", "{out}");
    assert_eq!(bb["SUCCESS"], "100.00%", "{out}");
    assert_rate(&bb["RPS"], QPS, 0.15, "bb's viz stat");

    // Admitted by the policy naming slow-cooker, not by a default that
    // admits the gateway; the other client refused at the same rate.
    let authz = section(&out, "east", "viz authz -n mc-demo deploy");
    let allowed = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .expect("bb-authz in the final viz authz");
    assert_eq!(allowed["SERVER"], "bb", "{out}");
    assert_rate(&allowed["RPS"], QPS, 0.15, "viz authz, admitted");
    let denied = authz
        .row("AUTHORIZATION", "")
        .expect("a refused row in the final viz authz");
    assert_eq!(denied["SERVER"], "bb", "{out}");
    assert_rate(&denied["UNAUTHORIZED"], QPS, 0.15, "viz authz, refused");

    // The gateway runs as a meshed pod of its own.
    let gateway = section(&out, "east", "viz stat -n linkerd-multicluster deploy");
    let row = gateway
        .row("NAME", "linkerd-gateway")
        .expect("the gateway in viz stat");
    assert_eq!(row["MESHED"], "1/1", "{out}");

    let services = section(&out, "west", "get svc -n mc-demo");
    assert!(services.row("NAME", "bb-target").is_some(), "{out}");
}
