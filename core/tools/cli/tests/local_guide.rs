//! The pod-to-pod guide end to end: `strait local up` on a copy of
//! `examples/pod-to-pod`, and `strait --context ...` run against it from
//! other processes, as a user runs them.
//!
//! Every `local up` hands out the same loopback addresses (127.1.0.x) and
//! ports to its pods, so two at once would collide: the tests below run in
//! parallel threads but take [`one_mesh`] first, which runs them (and
//! those of other test binaries) one after the other, each with its own
//! STRAIT_HOME and directory.

#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;
#[path = "support/swap.rs"]
mod swap;

use std::time::Duration;

use guide::{Guard, Table, Workspace, assert_rate, eventually, rate, section, text};
use strait_test_support::net::free_port;
use strait_test_support::process::find_program;
use strait_test_support::tool_missing;
use swap::SwapWatch;

/// The rate the guide's clients send at.
const QPS: f64 = 10.0;
/// How long after a change the 15 s window holds only the new traffic:
/// the clients sleep 5 s before they start, then a full window.
const SETTLE: Duration = Duration::from_secs(22);

const EXPORT_LABEL: &str = "  labels:\n    mirror.linkerd.io/exported: remote-discovery\n";

/// Asserts bb in east: 1/1 meshed, 100% success, about ten requests a
/// second over the last 15 s.
fn assert_bb_serves(ws: &Workspace, what: &str) {
    let stat = ws.viz("east", "stat", "15s", &[]);
    let bb = stat
        .row("NAME", "bb")
        .unwrap_or_else(|| panic!("{what}: no bb in {stat:?}"));
    assert_eq!(bb["MESHED"], "1/1", "{what}: {bb:?}");
    assert_eq!(bb["SUCCESS"], "100.00%", "{what}: {bb:?}");
    assert_rate(&bb["RPS"], QPS, 0.15, what);
}

/// `viz stat` of the other kinds while the guide runs: bb's ReplicaSet and
/// namespace in east carry bb's traffic; in west the mirror Service
/// `bb-target` carries what both slow_cookers send it (MESHED `-`: a
/// Service runs no pods); no StatefulSet runs; `-A` adds NAMESPACE.
fn assert_other_kinds(ws: &Workspace) {
    let stat = |cluster: &str, words: &[&str]| {
        let mut args = vec!["--context", cluster, "viz", "stat"];
        args.extend_from_slice(words);
        args.extend_from_slice(&["-t", "15s"]);
        ws.ok(&args)
    };
    let rs = Table::parse(&stat("east", &["-n", "mc-demo", "rs"]));
    assert_eq!(rs.rows.len(), 1, "{rs:?}");
    assert!(rs.rows[0]["NAME"].starts_with("bb-"), "{rs:?}");
    assert_eq!(rs.rows[0]["MESHED"], "1/1", "{rs:?}");
    assert_rate(&rs.rows[0]["RPS"], QPS, 0.15, "viz stat rs");
    let ns = Table::parse(&stat("east", &["ns"]));
    let demo = ns.row("NAME", "mc-demo").expect("mc-demo in viz stat ns");
    assert_rate(&demo["RPS"], QPS, 0.15, "viz stat ns");
    let svc = Table::parse(&stat("west", &["-n", "mc-demo", "svc"]));
    let mirror = svc
        .row("NAME", "bb-target")
        .expect("bb-target in viz stat svc");
    assert_eq!(mirror["MESHED"], "-", "{svc:?}");
    assert_rate(&mirror["RPS"], 2.0 * QPS, 0.15, "viz stat svc of bb-target");
    assert_eq!(
        stat("east", &["-n", "mc-demo", "sts"]).trim(),
        "",
        "no StatefulSet runs in the guide"
    );
    let all = Table::parse(&stat("east", &["-A", "deploy"]));
    let bb = all.row("NAME", "bb").expect("bb in viz stat -A deploy");
    assert_eq!(bb["NAMESPACE"], "mc-demo", "{all:?}");
}

/// Scenario 1, the guide's final state: the tables `local up --duration`
/// prints at the end, and `viz stat` from another process while it runs.
#[test]
fn guide_final_state() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("final", &[]);
    let up = ws.local_up(&["--duration", "40s"]);

    up.sleep_until(Duration::from_secs(25));
    assert_bb_serves(&ws, "viz stat while running");
    assert_other_kinds(&ws);
    // The guide's `linkerd --context east check`, with the data plane.
    for cluster in ["east", "west"] {
        let check = ws.ok(&["--context", cluster, "check", "--proxy"]);
        assert!(check.contains("√ data plane proxies are ready"), "{check}");
        assert!(check.ends_with("Status check results are √\n"), "{check}");
    }

    let out = up.wait(Duration::from_secs(60));
    let stat = section(&out, "east", "viz stat -n mc-demo deploy");
    let bb = stat.row("NAME", "bb").expect("bb in the final viz stat");
    assert_eq!(bb["MESHED"], "1/1", "{out}");
    assert_eq!(bb["SUCCESS"], "100.00%", "{out}");
    assert_rate(&bb["RPS"], QPS, 0.15, "final viz stat of bb");

    let authz = section(&out, "east", "viz authz -n mc-demo deploy");
    let allowed = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .expect("bb-authz in the final viz authz");
    assert_eq!(allowed["SERVER"], "bb", "{out}");
    assert_rate(&allowed["RPS"], QPS, 0.15, "final viz authz, admitted");
    let denied = authz
        .row("AUTHORIZATION", "")
        .expect("a refused row in the final viz authz");
    assert_eq!(denied["SERVER"], "bb", "{out}");
    assert_rate(
        &denied["UNAUTHORIZED"],
        QPS,
        0.15,
        "final viz authz, refused",
    );

    let services = section(&out, "west", "get svc -n mc-demo");
    assert!(services.row("NAME", "bb-target").is_some(), "{out}");
}

/// Scenario 2, live changes while `local up` runs: the evil client
/// applied, then the export label removed.
#[test]
fn live_changes() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("live", &["west/slow-cooker-evil.yaml"]);
    let up = ws.local_up(&[]);

    up.sleep_until(SETTLE);
    assert_bb_serves(&ws, "before the changes");
    let authz = ws.viz("east", "authz", "15s", &[]);
    assert!(
        authz
            .rows
            .iter()
            .all(|r| !r["AUTHORIZATION"].is_empty() || rate(&r["UNAUTHORIZED"]) == 0.0),
        "refused traffic before the evil client: {authz:?}"
    );

    // The evil client, applied live: bb's policy refuses it.
    let evil = Workspace::example("west/slow-cooker-evil.yaml");
    let applied = ws.ok(&["--context", "west", "apply", "-f", &evil.to_string_lossy()]);
    assert!(
        applied.contains("deployment.apps/slow-cooker-evil created"),
        "{applied}"
    );
    eventually(Duration::from_secs(20), "refused requests", || {
        let authz = ws.viz("east", "authz", "15s", &[]);
        authz
            .row("AUTHORIZATION", "")
            .filter(|r| rate(&r["UNAUTHORIZED"]) > 0.0)
            .map(|_| ())
    });
    std::thread::sleep(SETTLE);
    let authz = ws.viz("east", "authz", "15s", &[]);
    let denied = authz
        .row("AUTHORIZATION", "")
        .unwrap_or_else(|| panic!("no refused row: {authz:?}"));
    assert_rate(&denied["UNAUTHORIZED"], QPS, 0.15, "evil client refused");
    let allowed = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .unwrap_or_else(|| panic!("no bb-authz row: {authz:?}"));
    assert_rate(&allowed["RPS"], QPS, 0.15, "slow-cooker admitted");

    // The export label removed: the mirror goes, and with it the traffic.
    ws.ok(&[
        "--context",
        "east",
        "-n",
        "mc-demo",
        "label",
        "svc/bb",
        "mirror.linkerd.io/exported-",
    ]);
    eventually(Duration::from_secs(10), "bb-target removed", || {
        (!ws.services("west").contains(&"bb-target".to_string())).then_some(())
    });
    std::thread::sleep(Duration::from_secs(20));
    let stat = ws.viz("east", "stat", "15s", &[]);
    if let Some(bb) = stat.row("NAME", "bb") {
        assert!(
            rate(&bb["RPS"]) < 0.5,
            "bb still receives traffic after the export ended: {bb:?}"
        );
    }
    let authz = ws.viz("east", "authz", "15s", &[]);
    for row in &authz.rows {
        assert!(
            rate(&row["UNAUTHORIZED"]) < 0.5 && rate(&row["RPS"]) < 0.5,
            "traffic after the export ended: {row:?}"
        );
    }
    up.stop();
}

/// Scenario 3, the guide built through commands only (link-gen piped into
/// apply, check, label), then scenario 4: the same directory after a
/// restart.
#[test]
fn built_by_commands_and_restarted() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("commands", &["west/link.yaml"]);
    ws.edit("east/bb.yaml", EXPORT_LABEL, "");
    let up = ws.local_up(&[]);
    assert!(!ws.services("west").contains(&"bb-target".to_string()));

    // link-gen in east piped into apply in west, two processes.
    let mut generate = Guard(Some(
        ws.command()
            .args([
                "--context",
                "east",
                "multicluster",
                "link-gen",
                "--cluster-name=target",
                "--gateway=false",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .unwrap(),
    ));
    let yaml = generate.0.as_mut().unwrap().stdout.take().unwrap();
    let apply = ws
        .command()
        .args(["--context", "west", "apply", "-f", "-"])
        .stdin(yaml)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let applied = guide::output_within(apply, None, guide::COMMAND_TIMEOUT, "apply -f -");
    let generated = generate.wait_for(guide::COMMAND_TIMEOUT);
    assert!(
        generated.is_some_and(|s| s.success()),
        "link-gen failed: {generated:?}"
    );
    assert!(applied.status.success(), "{}", text(&applied.stderr));
    // The multicluster extension's namespace exists already, as on an
    // installed cluster; the credentials go beside the Link and, for the
    // destination service, into the control plane's namespace.
    assert_eq!(
        text(&applied.stdout),
        "namespace/linkerd-multicluster unchanged\n\
         secret/cluster-credentials-target created\n\
         secret/cluster-credentials-target created\n\
         link.multicluster.linkerd.io/target created\n"
    );
    let check = ws.strait(&["--context", "west", "multicluster", "check"], None);
    assert!(
        check.status.success(),
        "multicluster check failed:\n{}\n{}",
        text(&check.stdout),
        text(&check.stderr)
    );

    ws.ok(&[
        "--context",
        "east",
        "-n",
        "mc-demo",
        "label",
        "svc/bb",
        "mirror.linkerd.io/exported=remote-discovery",
    ]);
    eventually(Duration::from_secs(10), "bb-target mirrored", || {
        ws.services("west")
            .contains(&"bb-target".to_string())
            .then_some(())
    });
    std::thread::sleep(SETTLE);
    assert_bb_serves(&ws, "after link-gen and the label");
    // A change made just before the stop is kept too.
    ws.ok(&["--context", "west", "create", "ns", "made-at-exit"]);
    up.stop();

    // Scenario 4, started again on the same directory: the Link, the
    // label, the namespace, the mirror and the traffic are back.
    let up = ws.local_up(&[]);
    let namespaces = Table::parse(&ws.ok(&["--context", "west", "get", "ns"]));
    assert!(
        namespaces.row("NAME", "made-at-exit").is_some(),
        "a namespace created just before the stop is lost: {namespaces:?}"
    );
    let links = Table::parse(&ws.ok(&[
        "--context",
        "west",
        "-n",
        "linkerd-multicluster",
        "get",
        "link",
    ]));
    assert!(links.row("NAME", "target").is_some(), "{links:?}");
    let bb: serde_json::Value = serde_json::from_str(&ws.ok(&[
        "--context",
        "east",
        "-n",
        "mc-demo",
        "get",
        "svc",
        "bb",
        "-o",
        "json",
    ]))
    .unwrap();
    assert_eq!(
        bb["metadata"]["labels"]["mirror.linkerd.io/exported"], "remote-discovery",
        "{bb}"
    );
    eventually(
        Duration::from_secs(10),
        "bb-target after the restart",
        || {
            ws.services("west")
                .contains(&"bb-target".to_string())
                .then_some(())
        },
    );
    up.sleep_until(SETTLE);
    assert_bb_serves(&ws, "after the restart");
    up.stop();
}

/// Scenario 5, the PromQL path: a real Prometheus scraping every proxy
/// gives the numbers `local up`'s own scrapes give.
#[test]
fn prometheus_agrees() {
    let Some(prometheus) = find_program("STRAIT_PROMETHEUS", "prometheus") else {
        tool_missing!(
            "no prometheus on PATH nor STRAIT_PROMETHEUS (install it, e.g. apt-get install -y prometheus)"
        );
        return;
    };
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("prometheus", &[]);
    let up = ws.local_up(&[]);

    // Every meshed pod's proxy (local up waited for all to run).
    let mut targets = Vec::new();
    for cluster in ["east", "west"] {
        for pod in ws.pods(cluster) {
            let meshed = pod["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == "linkerd-proxy");
            if meshed {
                targets.push(format!("{}:4191", pod["status"]["podIP"].as_str().unwrap()));
            }
        }
    }
    assert_eq!(
        targets.len(),
        3,
        "bb, slow-cooker, slow-cooker-evil: {targets:?}"
    );

    let port = free_port();
    let config = ws.root.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n- job_name: strait-proxies\n  metrics_path: /metrics\n  \
             static_configs:\n  - targets: [{}]\n",
            targets
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .unwrap();
    let log = std::fs::File::create(ws.root.join("prometheus.log")).unwrap();
    let _prometheus = Guard(Some(
        std::process::Command::new(&prometheus)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                ws.root.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    ));
    let url = format!("http://127.0.0.1:{port}");

    // With --prometheus-url, a local context reads Prometheus, not the
    // scrapes `local up` keeps: one that does not answer is an error.
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let refused = ws.strait(
        &[
            "--context",
            "east",
            "viz",
            "stat",
            "-n",
            "mc-demo",
            "deploy",
            "--prometheus-url",
            &nobody,
        ],
        None,
    );
    assert!(
        !refused.status.success(),
        "viz ignored --prometheus-url: {}",
        text(&refused.stdout)
    );

    // Thirty seconds of steady traffic, all of it scraped by both.
    up.sleep_until(Duration::from_secs(45));

    // The series viz reads carry the labels it groups by, straight from
    // the proxy: Prometheus adds none of them.
    let metrics = guide::http_get(&targets[0], "/metrics");
    let inbound: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("response_total{") && l.contains("direction=\"inbound\""))
        .collect();
    assert!(
        !inbound.is_empty(),
        "no inbound response_total from bb's proxy"
    );
    for line in &inbound {
        assert!(
            line.contains("namespace=\"mc-demo\"")
                && line.contains("deployment=\"bb\"")
                && line.contains("pod=\"bb-"),
            "a series without namespace/deployment/pod: {line}"
        );
    }
    let local = ws.viz("east", "stat", "30s", &[]);
    let promql = ws.viz("east", "stat", "30s", &["--prometheus-url", &url]);
    println!("viz stat, local scrapes: {local:?}\nviz stat, Prometheus: {promql:?}");
    let mine = local.row("NAME", "bb").expect("bb in the local viz stat");
    let theirs = promql.row("NAME", "bb").unwrap_or_else(|| {
        panic!(
            "bb not in the Prometheus viz stat: {promql:?}\n{}",
            std::fs::read_to_string(ws.root.join("prometheus.log")).unwrap_or_default()
        )
    });
    assert_eq!(mine["MESHED"], theirs["MESHED"], "{mine:?} {theirs:?}");
    assert_eq!(mine["SUCCESS"], theirs["SUCCESS"], "{mine:?} {theirs:?}");
    assert_rate(
        &theirs["RPS"],
        rate(&mine["RPS"]),
        0.10,
        "Prometheus RPS against local",
    );
    assert_rate(&mine["RPS"], QPS, 0.15, "local RPS");

    let local = ws.viz("east", "authz", "30s", &[]);
    let promql = ws.viz("east", "authz", "30s", &["--prometheus-url", &url]);
    println!("viz authz, local scrapes: {local:?}\nviz authz, Prometheus: {promql:?}");
    for authorization in ["authorizationpolicy/bb-authz", ""] {
        let mine = local.row("AUTHORIZATION", authorization);
        let theirs = promql.row("AUTHORIZATION", authorization);
        let (Some(mine), Some(theirs)) = (mine, theirs) else {
            panic!("{authorization:?} missing: {local:?}\n{promql:?}");
        };
        for column in ["UNAUTHORIZED", "RPS"] {
            let expected = rate(&mine[column]);
            let got = rate(&theirs[column]);
            assert!(
                (got - expected).abs() <= expected.max(1.0) * 0.10,
                "authz {authorization:?} {column}: Prometheus {got}, local {expected}"
            );
        }
    }
    up.stop();
}

/// Scenario 5, hot reload: an authz plugin pushed into the running mesh
/// with `strait plugin push` takes over bb's decisions with no failed
/// request, and a bad one pushed after it changes nothing.
#[test]
fn a_pushed_plugin_takes_over_with_no_failed_request() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("push", &[]);
    let up = ws.local_up(&[]);
    up.sleep_until(SETTLE);
    assert_bb_serves(&ws, "before the push");
    let mut watch = SwapWatch::start(&ws);

    // The test plugin admits every request as `default/faulty-plugin`.
    let faulty = strait_default_plugins::fixtures::AUTHZ_FAULTY;
    let pushed = ws.ok(&[
        "--context",
        "east",
        "plugin",
        "push",
        "--kind",
        "authz",
        faulty,
        "--plugin-version",
        "admit-all",
    ]);
    assert!(pushed.contains("authz.wasm pushed"), "{pushed}");
    // Delivered once bb's proxy runs it; slow-cooker got a 2xx for every
    // request across the swap, and bb's proxy refused none of them.
    watch.assert_delivered("admit-all", "the push");
    let status = ws.ok(&[
        "--context",
        "east",
        "-n",
        "linkerd",
        "get",
        "configmap",
        "strait-plugins-status",
        "-o",
        "yaml",
    ]);
    assert!(
        status.contains("status.strait.io/authz.wasm: active admit-all"),
        "{status}"
    );

    // Garbage is refused by the command itself; a plugin of the wrong world
    // too. The plugin in place keeps deciding.
    let garbage = ws.path("garbage.wasm");
    std::fs::write(&garbage, b"not a plugin").unwrap();
    let out = ws.strait(
        &[
            "--context",
            "east",
            "plugin",
            "push",
            "--kind",
            "authz",
            &garbage.to_string_lossy(),
        ],
        None,
    );
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("nothing was pushed"),
        "{}",
        text(&out.stderr)
    );

    std::thread::sleep(SETTLE);
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = authz
        .row("AUTHORIZATION", "default/faulty-plugin")
        .unwrap_or_else(|| panic!("the pushed plugin stopped deciding: {authz:?}"));
    // Both clients are admitted now: slow-cooker and slow-cooker-evil.
    assert_rate(
        &admitted["RPS"],
        2.0 * QPS,
        0.15,
        "admitted by the pushed plugin",
    );
    assert_eq!(watch.active().as_deref(), Some("admit-all"));
    watch.assert_served("after the refused pushes");
    up.stop();
}

/// Per-route authorization in a running mesh: `examples/pod-to-pod`'s
/// per-route files applied live give bb's Server two HTTPRoutes and move
/// bb-authz onto the first. slow-cooker's identity is then admitted on
/// bb-root and refused on bb-admin, which `viz authz` shows as one row per
/// route.
#[test]
fn per_route_authorization() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("routes", &[]);
    let up = ws.local_up(&[]);
    up.sleep_until(SETTLE);
    assert_bb_serves(&ws, "before the routes");

    let east = Workspace::example("per-route-east.yaml");
    let applied = ws.ok(&["--context", "east", "apply", "-f", &east.to_string_lossy()]);
    assert!(
        applied.contains("httproute.gateway.networking.k8s.io/bb-admin created")
            && applied.contains("authorizationpolicy.policy.linkerd.io/bb-authz configured"),
        "{applied}"
    );
    let west = Workspace::example("per-route-west.yaml");
    ws.ok(&["--context", "west", "apply", "-f", &west.to_string_lossy()]);
    let on_route = |authz: &Table, route: &str, authorization: &str| {
        authz
            .rows
            .iter()
            .find(|r| r["ROUTE"] == route && r["AUTHORIZATION"] == authorization)
            .cloned()
    };
    eventually(
        Duration::from_secs(30),
        "refused requests on bb-admin",
        || {
            let authz = ws.viz("east", "authz", "15s", &[]);
            on_route(&authz, "bb-admin", "").filter(|r| rate(&r["UNAUTHORIZED"]) > 0.0)
        },
    );
    std::thread::sleep(SETTLE);
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = on_route(&authz, "bb-root", "authorizationpolicy/bb-authz")
        .unwrap_or_else(|| panic!("no bb-root row admitted by bb-authz: {authz:?}"));
    assert_eq!(admitted["SERVER"], "bb", "{authz:?}");
    assert_rate(
        &admitted["RPS"],
        QPS,
        0.15,
        "slow-cooker admitted on bb-root",
    );
    assert_eq!(rate(&admitted["UNAUTHORIZED"]), 0.0, "{authz:?}");
    let refused = on_route(&authz, "bb-admin", "")
        .unwrap_or_else(|| panic!("no refused row on bb-admin: {authz:?}"));
    assert_rate(
        &refused["UNAUTHORIZED"],
        QPS,
        0.15,
        "slow-cooker refused on bb-admin",
    );
    assert!(
        authz
            .rows
            .iter()
            .all(|r| r["ROUTE"] != "default" || rate(&r["RPS"]) == 0.0),
        "traffic on the default route after the routes: {authz:?}"
    );
    up.stop();
}
