//! A StatefulSet behind a headless Service, exported from east, and a
//! meshed client in west reaching one of its Pods by name
//! (`web-0.web-target.mc-demo.svc.cluster.local`): `strait local up` on a
//! copy of an example with the set and the client added, as a user runs
//! it, in remote-discovery mode (pod to pod) and through east's gateway.
//! The answering Pod's proxy shows who called, over mTLS: the client in
//! both modes (through the gateway, the client the gateway verified).

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::time::Duration;

use guide::{Table, Workspace, eventually, output_within, text};
use strait_test_support::process::find_program;
use strait_test_support::scrape;
use strait_test_support::tool_missing;

/// East's StatefulSet `web` (two meshed bb Pods) and its headless Service,
/// exported with `exported`.
fn web(exported: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: mc-demo
  labels:
    mirror.linkerd.io/exported: {exported}
spec:
  clusterIP: None
  ports:
  - name: http
    port: 8080
  selector:
    app: web
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: web
  namespace: mc-demo
spec:
  replicas: 2
  serviceName: web
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      annotations:
        linkerd.io/inject: enabled
      labels:
        app: web
    spec:
      containers:
      - name: terminus
        image: buoyantio/bb:v0.0.6
        args:
        - terminus
        - "--h1-server-port=8080"
        - "--response-text=web"
        ports:
        - containerPort: 8080
"#
    )
}

/// West's meshed client, calling web-0 by its mirrored name.
const CLIENT: &str = r#"apiVersion: v1
kind: ServiceAccount
metadata:
  name: web-client
  namespace: mc-demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-client
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web-client
  template:
    metadata:
      annotations:
        linkerd.io/inject: enabled
      labels:
        app: web-client
    spec:
      serviceAccountName: web-client
      containers:
      - name: slow-cooker
        image: buoyantio/slow_cooker:1.3.0
        command: ["/bin/sh"]
        args:
        - -c
        - |
          sleep 2 # wait for the mirrors
          /slow_cooker/slow_cooker --qps 10 http://web-0.web-target.mc-demo.svc.cluster.local:8080
"#;

const CLIENT_IDENTITY: &str = "web-client.mc-demo.serviceaccount.identity.linkerd.cluster.local";

/// The address of `pod`'s proxy admin port in `cluster`.
fn admin(ws: &Workspace, cluster: &str, pod: &str) -> String {
    let pods = ws.pods(cluster);
    let found = pods
        .iter()
        .find(|p| p["metadata"]["name"] == pod)
        .unwrap_or_else(|| panic!("no pod {pod} in {cluster}"));
    format!("{}:4191", found["status"]["podIP"].as_str().unwrap())
}

/// The inbound requests `pod`'s proxy counted over mTLS from `client_id`
/// (every series of Linkerd's `request_total`).
fn inbound_from(ws: &Workspace, cluster: &str, pod: &str, client_id: &str) -> f64 {
    let metrics = guide::http_get(&admin(ws, cluster, pod), "/metrics");
    let client = format!("client_id=\"{client_id}\"");
    scrape::sum(
        &metrics,
        "request_total",
        &["direction=\"inbound\"", "tls=\"true\"", &client],
    )
}

/// The inbound requests `pod`'s proxy counted from anyone.
fn inbound(ws: &Workspace, cluster: &str, pod: &str) -> f64 {
    let metrics = guide::http_get(&admin(ws, cluster, pod), "/metrics");
    scrape::sum(&metrics, "request_total", &["direction=\"inbound\""])
}

/// Runs `kubectl ARGS` against the workspace's clusters; its stdout.
fn kubectl(ws: &Workspace, kubectl: &std::path::Path, args: &[&str]) -> String {
    let child = std::process::Command::new(kubectl)
        .args(args)
        .env("KUBECONFIG", ws.home.join("kubeconfig"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = output_within(child, None, Duration::from_secs(60), &args.join(" "));
    assert!(
        output.status.success(),
        "kubectl {} failed: {}{}",
        args.join(" "),
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// `kubectl scale` and `kubectl rollout status` on east's set, and west's
/// per-pod mirrors following the members.
fn scale_with_kubectl(ws: &Workspace) {
    let Some(program) = find_program("STRAIT_KUBECTL", "kubectl") else {
        tool_missing!("no kubectl on PATH: the StatefulSet is not scaled with it");
        return;
    };
    let east = ["--context", "east", "-n", "mc-demo"];
    let run = |args: &[&str]| kubectl(ws, &program, &[&east[..], args].concat());
    let scaled = run(&["scale", "statefulset", "web", "--replicas=3"]);
    assert!(scaled.contains("statefulset.apps/web scaled"), "{scaled}");
    let rolled = run(&["rollout", "status", "statefulset/web", "--timeout=60s"]);
    assert!(rolled.contains("3 new pods have been updated"), "{rolled}");
    eventually(Duration::from_secs(30), "web-2-target in west", || {
        ws.services("west")
            .iter()
            .any(|s| s == "web-2-target")
            .then_some(())
    });
    run(&["scale", "statefulset", "web", "--replicas=1"]);
    eventually(Duration::from_secs(30), "only web-0 left", || {
        let pods = Table::parse(&run(&["get", "pods", "-l", "app=web"]));
        (pods.rows.len() == 1 && pods.row("NAME", "web-0").is_some()).then_some(())
    });
    eventually(
        Duration::from_secs(30),
        "web-1 and web-2 unmirrored",
        || {
            let services = ws.services("west");
            let gone = !services
                .iter()
                .any(|s| s == "web-1-target" || s == "web-2-target");
            (gone && services.iter().any(|s| s == "web-0-target")).then_some(())
        },
    );
    let sets = Table::parse(&run(&["get", "statefulset", "web"]));
    assert_eq!(sets.row("NAME", "web").unwrap()["READY"], "1/1", "{sets:?}");
}

/// Runs `example` with the set exported as `exported` and the client, and
/// checks that web-0, alone, answers the client, seeing `caller`'s
/// identity over TLS; then, when `scale`, scales the set with kubectl.
fn reach_web_0(example: &str, exported: &str, caller: &str, scale: bool) {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::of_example(example, &format!("headless-{exported}"), &[]);
    std::fs::write(ws.path("east/web.yaml"), web(exported)).unwrap();
    std::fs::write(ws.path("west/web-client.yaml"), CLIENT).unwrap();
    let up = ws.local_up(&[]);

    // East runs the set, ready as kubectl reads it.
    eventually(Duration::from_secs(30), "web 2/2 ready", || {
        let sets = Table::parse(&ws.ok(&["--context", "east", "-n", "mc-demo", "get", "sts"]));
        (sets.row("NAME", "web")?["READY"] == "2/2").then_some(())
    });

    // West mirrors it headless, with one mirror per Pod.
    eventually(
        Duration::from_secs(30),
        "the headless and per-pod mirrors",
        || {
            let services = ws.services("west");
            ["web-target", "web-0-target", "web-1-target"]
                .iter()
                .all(|s| services.iter().any(|n| n == s))
                .then_some(())
        },
    );
    let mirrors = Table::parse(&ws.ok(&["--context", "west", "-n", "mc-demo", "get", "svc"]));
    let headless = mirrors.row("NAME", "web-target").unwrap();
    assert_eq!(headless["CLUSTER-IP"], "None", "{mirrors:?}");

    // web-0 answers the client, over mTLS, naming its caller.
    let served = eventually(Duration::from_secs(40), "web-0 serving the client", || {
        let served = inbound_from(&ws, "east", "web-0", caller);
        (served >= 20.0).then_some(served)
    });
    assert_eq!(
        inbound(&ws, "east", "web-1"),
        0.0,
        "only web-0 is named (web-0 served {served})"
    );
    // `viz stat sts` groups the set's Pods by their owner: all meshed,
    // every request answered.
    eventually(Duration::from_secs(30), "web in viz stat sts", || {
        let stat = Table::parse(&ws.ok(&[
            "--context",
            "east",
            "viz",
            "stat",
            "-n",
            "mc-demo",
            "sts",
            "-t",
            "15s",
        ]));
        let web = stat.row("NAME", "web")?;
        (web["MESHED"] == "2/2" && web["SUCCESS"] == "100.00%").then_some(())
    });
    if scale {
        scale_with_kubectl(&ws);
    }
    up.stop();
}

#[test]
fn west_reaches_one_pod_of_easts_stateful_set_pod_to_pod() {
    reach_web_0("pod-to-pod", "remote-discovery", CLIENT_IDENTITY, true);
}

#[test]
fn west_reaches_one_pod_of_easts_stateful_set_through_the_gateway() {
    // Through the gateway too, web-0's proxy sees the client: the gateway
    // names the client whose mTLS it verified, and web-0's proxy takes
    // that word from the gateway's identity alone.
    reach_web_0("gateway", "\"true\"", CLIENT_IDENTITY, false);
}
