//! Linkerd's pod-to-pod guide, its lines run verbatim by a shell with the
//! real kubectl and `strait` in place of `linkerd`, against clusters that
//! `strait local up` starts empty. Between the steps, the guide's results:
//! the mirror `bb-target`, `viz stat` and `viz authz`; and what a user
//! does next with kubectl (logs, a rollout restart, a scale) without a
//! failed request through the mesh.

#[path = "support/guide.rs"]
#[allow(dead_code)]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use guide::{Table, Workspace, assert_rate, eventually, output_within, rate, section, text};
use strait_test_support::process::find_program;
use strait_test_support::tool_missing;

/// Every file of the example: the clusters start empty, as the guide's do.
const ALL_FILES: [&str; 5] = [
    "east/bb.yaml",
    "east/policy.yaml",
    "west/link.yaml",
    "west/slow-cooker.yaml",
    "west/slow-cooker-evil.yaml",
];

/// The rate the guide's clients send at.
const QPS: f64 = 10.0;

const STEP_3: &str = "strait --context east multicluster link-gen --cluster-name=target --gateway=false | kubectl --context west apply -f -";

const STEP_4_BB: &str = r#"cat <<EOF | strait --context east inject - | kubectl --context east apply -f -
---
apiVersion: v1
kind: Namespace
metadata:
  name: mc-demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bb
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: bb
  template:
    metadata:
      labels:
        app: bb
    spec:
      containers:
      - name: terminus
        image: buoyantio/bb:v0.0.6
        args:
        - terminus
        - "--h1-server-port=8080"
        - "--response-text=hello\n"
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: bb
  namespace: mc-demo
spec:
  ports:
  - name: http
    port: 8080
    targetPort: 8080
  selector:
    app: bb
EOF"#;

const STEP_4_NS: &str = "kubectl --context west create ns mc-demo";
const STEP_4_LABEL: &str =
    "kubectl --context east -n mc-demo label svc/bb mirror.linkerd.io/exported=remote-discovery";
const STEP_4_GET: &str = "kubectl --context west -n mc-demo get svc";

const STEP_5: &str = r#"cat <<EOF | strait --context west inject - | kubectl --context west apply -f -
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: slow-cooker
  namespace: mc-demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow-cooker
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: slow-cooker
  template:
    metadata:
      labels:
        app: slow-cooker
    spec:
      serviceAccountName: slow-cooker
      containers:
      - args:
        - -c
        - |
          sleep 5 # wait for pods to start
          /slow_cooker/slow_cooker --qps 10 http://bb-target:8080
        command:
        - /bin/sh
        image: buoyantio/slow_cooker:1.3.0
        name: slow-cooker
EOF"#;

const STEP_5_STAT: &str = "strait --context east viz stat -n mc-demo deploy";

const STEP_6_POLICY: &str = r#"kubectl --context east apply -f - <<EOF
---
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata:
  namespace: mc-demo
  name: bb
spec:
  podSelector:
    matchLabels:
      app: bb
  port: 8080
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata:
  namespace: mc-demo
  name: bb-authz
spec:
  targetRef:
    group: policy.linkerd.io
    kind: Server
    name: bb
  requiredAuthenticationRefs:
    - group: policy.linkerd.io
      kind: MeshTLSAuthentication
      name: bb-good
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata:
  namespace: mc-demo
  name: bb-good
spec:
  identities:
  - 'slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local'
EOF"#;

const STEP_6_AUTHZ: &str = "strait --context east viz authz -n mc-demo deploy";

const STEP_6_EVIL: &str = r#"cat <<EOF | strait --context west inject - | kubectl --context west apply -f -
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: slow-cooker-evil
  namespace: mc-demo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: slow-cooker-evil
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: slow-cooker-evil
  template:
    metadata:
      labels:
        app: slow-cooker-evil
    spec:
      serviceAccountName: slow-cooker-evil
      containers:
      - args:
        - -c
        - |
          sleep 5 # wait for pods to start
          /slow_cooker/slow_cooker --qps 10 http://bb-target:8080
        command:
        - /bin/sh
        image: buoyantio/slow_cooker:1.3.0
        name: slow-cooker
EOF"#;

/// A shell running the guide's lines, with `strait` and kubectl on PATH and
/// the workspace's kubeconfig.
struct Shell<'a> {
    ws: &'a Workspace,
    path: String,
}

impl Shell<'_> {
    fn run(&self, line: &str) -> (bool, String, String) {
        let child = Command::new("bash")
            .args(["-o", "pipefail", "-c", line])
            .env("PATH", &self.path)
            .env("STRAIT_HOME", &self.ws.home)
            .env("HOME", &self.ws.home)
            .env("KUBECONFIG", self.ws.home.join("kubeconfig"))
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = output_within(child, None, guide::COMMAND_TIMEOUT, line);
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    fn ok(&self, line: &str) -> String {
        let (ok, out, err) = self.run(line);
        assert!(ok, "`{line}` failed:\n{out}\n{err}");
        out
    }
}

/// A command left running (`kubectl get -w`), its output read line by
/// line on a thread; killed when dropped.
struct Watching {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Watching {
    /// The first line starting with `prefix`, within `timeout`.
    fn line_starting(&self, prefix: &str, timeout: Duration) -> String {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with(prefix) => return line,
                Ok(_) => {}
                Err(_) => panic!("no line starting with {prefix:?} within {timeout:?}"),
            }
        }
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Shell<'_> {
    fn watch(&self, line: &str) -> Watching {
        use std::io::BufRead;
        let mut child = Command::new("bash")
            .args(["-c", &format!("exec {line}")])
            .env("PATH", &self.path)
            .env("HOME", &self.ws.home)
            .env("KUBECONFIG", self.ws.home.join("kubeconfig"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::sync_channel(1024);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        // Give kubectl the time to list and start watching.
        std::thread::sleep(Duration::from_millis(1500));
        Watching { child, lines }
    }
}

/// The good/bad/failed counts of every interval line slow_cooker logged.
fn intervals(log: &str) -> Vec<(u64, u64, u64)> {
    log.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let counts = l.split_whitespace().nth(2)?;
            let mut parts = counts.split('/').map(|n| n.parse::<u64>().ok());
            Some((parts.next()??, parts.next()??, parts.next()??))
        })
        .collect()
}

#[test]
fn the_guide_runs_verbatim_with_kubectl() {
    let _mesh = one_mesh::one_mesh();
    let Some(kubectl) = find_program("STRAIT_KUBECTL", "kubectl") else {
        tool_missing!("no kubectl on PATH: the guide's kubectl lines cannot run");
        return;
    };
    let ws = Workspace::new("kubectl", &ALL_FILES);
    let up = ws.start_local_up(&[]);
    let strait_dir = PathBuf::from(env!("CARGO_BIN_EXE_strait"));
    let path = std::env::join_paths(
        [strait_dir.parent().unwrap(), kubectl.parent().unwrap()]
            .into_iter()
            .map(PathBuf::from)
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .unwrap()
    .into_string()
    .unwrap();
    let sh = Shell { ws: &ws, path };

    // Step 3: link.
    let linked = sh.ok(STEP_3);
    assert!(
        linked.contains("link.multicluster.linkerd.io/target created"),
        "{linked}"
    );
    // Step 4: bb in east, its namespace in west, exported pod to pod.
    let applied = sh.ok(STEP_4_BB);
    assert!(applied.contains("deployment.apps/bb created"), "{applied}");
    assert_eq!(sh.ok(STEP_4_NS), "namespace/mc-demo created\n");
    // `kubectl get -w` in west, started before the export, sees the
    // mirror appear.
    let watch = sh.watch("kubectl --context west -n mc-demo get svc -w");
    assert_eq!(sh.ok(STEP_4_LABEL), "service/bb labeled\n");
    let seen = watch.line_starting("bb-target", Duration::from_secs(20));
    assert!(
        seen.contains("ClusterIP") && seen.contains("8080/TCP"),
        "{seen}"
    );
    let services = eventually(Duration::from_secs(20), "the mirror bb-target", || {
        let out = sh.ok(STEP_4_GET);
        out.contains("bb-target").then_some(out)
    });
    let table = Table::parse(&services);
    let mirror = table.row("NAME", "bb-target").expect("bb-target listed");
    assert_eq!(mirror["TYPE"], "ClusterIP", "{services}");
    assert_eq!(mirror["PORT(S)"], "8080/TCP", "{services}");

    // Step 5: traffic.
    let applied = sh.ok(STEP_5);
    assert!(
        applied.contains("deployment.apps/slow-cooker created"),
        "{applied}"
    );
    eventually(Duration::from_secs(60), "bb serving slow-cooker", || {
        let stat = Table::parse(&sh.ok(STEP_5_STAT));
        let bb = stat.row("NAME", "bb")?.clone();
        (bb["MESHED"] == "1/1" && bb["SUCCESS"] == "100.00%" && rate(&bb["RPS"]) > 0.0)
            .then_some(())
    });
    std::thread::sleep(Duration::from_secs(16));
    let stat = Table::parse(&sh.ok(&format!("{STEP_5_STAT} -t 15s")));
    let bb = stat.row("NAME", "bb").expect("bb in viz stat").clone();
    assert_eq!(bb["SUCCESS"], "100.00%", "{stat:?}");
    assert_rate(&bb["RPS"], QPS, 0.15, "viz stat of bb");

    // What a user does next: slow_cooker's own report, a rollout and a
    // scale of bb, with no request failed by slow-cooker meanwhile.
    let log = sh.ok("kubectl --context west -n mc-demo logs deploy/slow-cooker");
    assert!(log.contains("good/b/f"), "slow_cooker's header: {log}");
    let before = intervals(&log).len();
    assert!(before >= 1, "an interval line: {log}");
    assert_eq!(
        sh.ok("kubectl --context east -n mc-demo rollout restart deploy/bb"),
        "deployment.apps/bb restarted\n"
    );
    assert_eq!(
        sh.ok("kubectl --context east -n mc-demo scale deploy/bb --replicas=2"),
        "deployment.apps/bb scaled\n"
    );
    eventually(Duration::from_secs(30), "two new bb pods", || {
        let out = sh.ok("kubectl --context east -n mc-demo get deploy bb");
        let row = Table::parse(&out).row("NAME", "bb")?.clone();
        (row["READY"] == "2/2" && row["UP-TO-DATE"] == "2").then_some(())
    });
    // Two more intervals after the rollout (slow_cooker reports every 10 s).
    let log = eventually(
        Duration::from_secs(40),
        "two intervals after the rollout",
        || {
            let log = sh.ok("kubectl --context west -n mc-demo logs deploy/slow-cooker");
            (intervals(&log).len() >= before + 2).then_some(log)
        },
    );
    for (good, bad, failed) in intervals(&log) {
        assert_eq!(
            (bad, failed),
            (0, 0),
            "a request failed during the rollout:\n{log}"
        );
        assert!(good > 0, "{log}");
    }

    // Step 6: the policy admits slow-cooker, then refuses the evil one.
    let applied = sh.ok(STEP_6_POLICY);
    assert!(
        applied.contains("authorizationpolicy.policy.linkerd.io/bb-authz created"),
        "{applied}"
    );
    eventually(
        Duration::from_secs(40),
        "bb-authz admitting slow-cooker",
        || {
            let authz = Table::parse(&sh.ok(&format!("{STEP_6_AUTHZ} -t 15s")));
            let row = authz
                .row("AUTHORIZATION", "authorizationpolicy/bb-authz")?
                .clone();
            (rate(&row["RPS"]) >= QPS * 0.85).then_some(())
        },
    );
    let applied = sh.ok(STEP_6_EVIL);
    assert!(
        applied.contains("deployment.apps/slow-cooker-evil created"),
        "{applied}"
    );
    eventually(Duration::from_secs(40), "the evil client refused", || {
        let authz = Table::parse(&sh.ok(&format!("{STEP_6_AUTHZ} -t 15s")));
        let refused = authz.row("AUTHORIZATION", "")?.clone();
        (rate(&refused["UNAUTHORIZED"]) >= QPS * 0.85).then_some(())
    });
    let authz = Table::parse(&sh.ok(STEP_6_AUTHZ));
    let admitted = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .expect("bb-authz row");
    assert_eq!(admitted["SERVER"], "bb");
    assert_eq!(admitted["SUCCESS"], "100.00%");
    drop(up);
}

/// The example's final state with every strait controller (policy,
/// destination, service mirrors, plugins) reaching its own cluster through
/// the cluster's Kubernetes API with kube's client, as on Kubernetes.
#[test]
fn the_example_runs_with_every_controller_through_the_api() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("via-api", &[]);
    let up = ws.local_up(&["--controllers-via-api", "--duration", "40s"]);
    assert!(
        up.stderr_text()
            .contains("controllers reach each cluster through its Kubernetes API"),
        "{}",
        up.stderr_text()
    );
    let out = up.wait(Duration::from_secs(60));
    let stat = section(&out, "east", "viz stat -n mc-demo deploy");
    let bb = stat.row("NAME", "bb").expect("bb in the final viz stat");
    assert_eq!(bb["MESHED"], "1/1", "{out}");
    assert_eq!(bb["SUCCESS"], "100.00%", "{out}");
    assert_rate(
        &bb["RPS"],
        QPS,
        0.15,
        "viz stat of bb, controllers through the API",
    );
    let authz = section(&out, "east", "viz authz -n mc-demo deploy");
    let admitted = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .expect("bb-authz in the final viz authz");
    assert_rate(
        &admitted["RPS"],
        QPS,
        0.15,
        "admitted, controllers through the API",
    );
    let refused = authz.row("AUTHORIZATION", "").expect("a refused row");
    assert_rate(
        &refused["UNAUTHORIZED"],
        QPS,
        0.15,
        "refused, controllers through the API",
    );
    let services = section(&out, "west", "get svc -n mc-demo");
    assert!(services.row("NAME", "bb-target").is_some(), "{out}");
}
