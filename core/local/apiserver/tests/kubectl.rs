//! The real kubectl against a local cluster's API server: what a user
//! types, and what kubectl prints back.

#[allow(dead_code)]
mod support;

use std::process::Stdio;
use std::time::Duration;

use strait_test_support::process::{find_program, text};
use strait_test_support::tool_missing;
use tokio::io::AsyncBufReadExt;

struct Kubectl {
    binary: std::path::PathBuf,
    kubeconfig: std::path::PathBuf,
}

impl Kubectl {
    fn new(api: &support::Api) -> Option<Kubectl> {
        let Some(binary) = find_program("STRAIT_KUBECTL", "kubectl") else {
            tool_missing!("no kubectl on PATH");
            return None;
        };
        Some(Kubectl {
            binary,
            kubeconfig: api.kubeconfig_path.clone(),
        })
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", std::env::temp_dir())
            .kill_on_drop(true);
        command
    }

    /// Runs kubectl with `stdin`; (success, stdout, stderr).
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
        use tokio::io::AsyncWriteExt;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        let mut input = child.stdin.take().unwrap();
        input
            .write_all(stdin.unwrap_or("").as_bytes())
            .await
            .unwrap();
        drop(input);
        let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .expect("kubectl answers within 30 s")
            .unwrap();
        (out.status.success(), text(&out.stdout), text(&out.stderr))
    }

    async fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let (ok, out, err) = self.run(args, stdin).await;
        assert!(ok, "kubectl {args:?} failed: {err}{out}");
        out
    }
}

const POLICY: &str = "\
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata:
  name: bb-good
  namespace: mc-demo
spec:
  identities:
  - sa.mc-demo.serviceaccount.identity.linkerd.cluster.local
";

const SERVICE: &str = "\
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
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_apply_label_get_and_delete_print_what_kubectl_prints() {
    let api = support::start("kubectl-crud").await;
    let Some(k) = Kubectl::new(&api) else { return };
    // `create ns` sends protobuf, as kubectl's typed clients do.
    assert_eq!(
        k.ok(&["create", "ns", "mc-demo"], None).await,
        "namespace/mc-demo created\n"
    );
    let (ok, _, err) = k.run(&["create", "ns", "mc-demo"], None).await;
    assert!(!ok);
    assert_eq!(
        err,
        "Error from server (AlreadyExists): namespaces \"mc-demo\" already exists\n"
    );

    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(SERVICE)).await,
        "service/bb created\n"
    );
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(SERVICE)).await,
        "service/bb unchanged\n"
    );
    let changed = SERVICE.replace("port: 8080\n    targetPort", "port: 9090\n    targetPort");
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(&changed)).await,
        "service/bb configured\n"
    );
    assert_eq!(
        k.ok(
            &[
                "-n",
                "mc-demo",
                "label",
                "svc/bb",
                "mirror.linkerd.io/exported=remote-discovery"
            ],
            None
        )
        .await,
        "service/bb labeled\n"
    );

    let table = k
        .ok(
            &["-n", "mc-demo", "get", "svc", "-o", "wide", "--show-labels"],
            None,
        )
        .await;
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
            "SELECTOR",
            "LABELS"
        ]
    );
    let row: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(row[0], "bb");
    assert_eq!(row[1], "ClusterIP");
    assert!(row[2].starts_with("10.96."), "{table}");
    assert_eq!(&row[3..5], ["<none>", "9090/TCP"]);
    assert_eq!(
        &row[6..],
        ["app=bb", "mirror.linkerd.io/exported=remote-discovery"]
    );

    let yaml = k
        .ok(
            &[
                "-n",
                "mc-demo",
                "get",
                "svc",
                "bb",
                "-o",
                "jsonpath={.spec.ports[0].port}",
            ],
            None,
        )
        .await;
    assert_eq!(yaml, "9090");
    assert_eq!(
        k.ok(&["-n", "mc-demo", "delete", "svc", "bb"], None).await,
        "service \"bb\" deleted\n"
    );
    let (ok, _, err) = k.run(&["-n", "mc-demo", "get", "svc", "bb"], None).await;
    assert!(!ok);
    assert_eq!(
        err,
        "Error from server (NotFound): services \"bb\" not found\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_resources_apply_idempotently_explain_and_refuse_what_the_schema_refuses() {
    let api = support::start("kubectl-crd").await;
    let Some(k) = Kubectl::new(&api) else { return };
    k.ok(&["create", "ns", "mc-demo"], None).await;
    let created = k.ok(&["apply", "-f", "-"], Some(POLICY)).await;
    assert_eq!(
        created,
        "meshtlsauthentication.policy.linkerd.io/bb-good created\n"
    );
    let again = k.ok(&["apply", "-f", "-"], Some(POLICY)).await;
    assert_eq!(
        again,
        "meshtlsauthentication.policy.linkerd.io/bb-good unchanged\n"
    );
    let server_side = k
        .ok(&["apply", "--server-side", "-f", "-"], Some(POLICY))
        .await;
    assert_eq!(
        server_side,
        "meshtlsauthentication.policy.linkerd.io/bb-good serverside-applied\n"
    );

    let broken = POLICY.replace(
        "identities:\n  - sa.mc-demo.serviceaccount.identity.linkerd.cluster.local\n",
        "identities: []\n",
    );
    let (ok, _, err) = k.run(&["apply", "-f", "-"], Some(&broken)).await;
    assert!(!ok, "an empty identities list breaks the schema");
    assert!(
        err.contains(
            "The MeshTLSAuthentication \"bb-good\" is invalid: spec.identities: Invalid value: 0: spec.identities in body should have at least 1 items"
        ),
        "{err}"
    );

    let explained = k.ok(&["explain", "link.spec"], None).await;
    assert!(explained.contains("KIND:       Link"), "{explained}");
    assert!(explained.contains("FIELD: spec <Object>"), "{explained}");
    assert!(explained.contains("targetClusterName"), "{explained}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_watch_sees_a_service_appear() {
    let api = support::start("kubectl-watch").await;
    let Some(k) = Kubectl::new(&api) else { return };
    k.ok(&["create", "ns", "mc-demo"], None).await;
    let mut watch = k
        .command(&["-n", "mc-demo", "get", "svc", "-w"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(watch.stdout.take().unwrap()).lines();
    // Give the watch time to start, then create the mirror.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let mirror = SERVICE.replace("name: bb\n", "name: bb-target\n");
    k.ok(&["apply", "-f", "-"], Some(&mirror)).await;
    let line = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let line = lines.next_line().await.unwrap().expect("the watch goes on");
            if line.starts_with("bb-target") {
                return line;
            }
        }
    })
    .await
    .expect("kubectl get -w shows the new Service within 10 s");
    assert!(
        line.contains("ClusterIP") && line.contains("8080/TCP"),
        "{line}"
    );
    watch.kill().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_discovers_everything_in_one_aggregated_request_per_root() {
    let api = support::start("kubectl-discovery").await;
    let Some(k) = Kubectl::new(&api) else { return };
    let (ok, _, log) = k.run(&["get", "links", "-A", "-v=6"], None).await;
    assert!(ok, "{log}");
    let gets: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("\"GET\"") || l.contains("GET https"))
        .collect();
    assert!(
        gets.iter()
            .any(|l| l.contains("/apis?timeout") && l.contains("200")),
        "{log}"
    );
    assert!(
        !gets
            .iter()
            .any(|l| l.contains("/apis/multicluster.linkerd.io/v1alpha3?")),
        "the group version's resource list was asked for: aggregated discovery was not used\n{log}"
    );
}
