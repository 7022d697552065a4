//! `multicluster unlink`, `gateways` and `check`'s controller and gateway
//! lines, run as a user runs them against two local clusters: unlink's
//! output piped into `delete -f -`, and a gateway that answers its probe
//! and then stops.

#[allow(dead_code)]
#[path = "support/local_cluster.rs"]
mod support;

use k8s_openapi::api::core::v1::Pod;
use serde_json::json;
use strait_store::ClusterStore;
use support::{BB, Env, failed, ok, stdout};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// Links west to east with `link-gen FLAGS`, applied into west.
async fn link(env: &Env, flags: &[&str]) {
    let mut args = vec![
        "--context",
        "east",
        "multicluster",
        "link-gen",
        "--cluster-name=target",
    ];
    args.extend_from_slice(flags);
    let yaml = ok(&env.strait(&args, None).await);
    ok(&env
        .strait(&["--context", "west", "apply", "-f", "-"], Some(&yaml))
        .await);
}

fn names(env: &Env, kind: &str) -> Vec<String> {
    let mut names: Vec<String> = env
        .west
        .objects()
        .into_iter()
        .filter(|(k, _)| k.kind == kind)
        .map(|(_, o)| o["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect();
    names.sort();
    names
}

const WEST_MIRRORS: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: mc-demo}\n---\n\
    apiVersion: v1\nkind: Service\nmetadata:\n  name: bb-target\n  namespace: mc-demo\n  labels: {mirror.linkerd.io/mirrored-service: \"true\", mirror.linkerd.io/cluster-name: target}\n\
    spec: {ports: [{name: http, port: 8080}]}\n---\n\
    apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: bb-target\n  namespace: mc-demo\n  labels: {mirror.linkerd.io/cluster-name: target}\n\
    subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: http, port: 4143}]}]\n---\n\
    apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: mc-demo}\nspec: {ports: [{name: http, port: 80}]}\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlink_piped_into_delete_removes_the_link_its_secret_and_mirrors() {
    let env = Env::start("unlink").await;
    link(&env, &["--gateway=false"]).await;
    ok(&env
        .strait(
            &["--context", "west", "apply", "-f", "-"],
            Some(WEST_MIRRORS),
        )
        .await);
    let yaml = ok(&env
        .strait(
            &[
                "--context",
                "west",
                "multicluster",
                "unlink",
                "--cluster-name=target",
            ],
            None,
        )
        .await);
    assert!(!yaml.contains("kubeconfig"), "credentials printed: {yaml}");
    let deleted = ok(&env
        .strait(&["--context", "west", "delete", "-f", "-"], Some(&yaml))
        .await);
    assert_eq!(
        deleted,
        "link.multicluster.linkerd.io \"target\" deleted\n\
         secret \"cluster-credentials-target\" deleted\n\
         secret \"cluster-credentials-target\" deleted\n\
         service \"bb-target\" deleted\n\
         endpoints \"bb-target\" deleted\n"
    );
    assert!(names(&env, "Link").is_empty());
    assert!(!names(&env, "Secret").contains(&"cluster-credentials-target".to_string()));
    assert_eq!(names(&env, "Service"), vec!["web"]);
    assert!(names(&env, "Endpoints").is_empty());

    // Nothing is left to unlink, and deleting the same objects again says
    // what is missing.
    let err = failed(
        &env.strait(
            &[
                "--context",
                "west",
                "multicluster",
                "unlink",
                "--cluster-name=target",
            ],
            None,
        )
        .await,
    );
    assert!(err.contains("cluster west has no Link \"target\""), "{err}");
    let again = env
        .strait(&["--context", "west", "delete", "-f", "-"], Some(&yaml))
        .await;
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("NotFound"),
        "{again:?}"
    );
}

/// A gateway probe endpoint answering 200, until the returned task is aborted.
async fn probe_endpoint() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateways_and_check_follow_the_gateway_probe() {
    let env = Env::start("gateways").await;
    let (probe_port, endpoint) = probe_endpoint().await;
    let file = env.file("bb.yaml", BB);
    ok(&env
        .strait(&["--context", "east", "apply", "-f", &file], None)
        .await);
    ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "label",
                "svc/bb",
                "mirror.linkerd.io/exported=true",
            ],
            None,
        )
        .await);
    let gateway = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: linkerd-multicluster}}\n---\n\
        apiVersion: v1\nkind: Service\nmetadata: {{name: linkerd-gateway, namespace: linkerd-multicluster}}\n\
        spec:\n  selector: {{app: linkerd-gateway}}\n  ports:\n  - {{name: mc-gateway, port: 4143}}\n  - {{name: mc-probe, port: 4191, targetPort: {probe_port}}}\n---\n\
        apiVersion: v1\nkind: Pod\nmetadata: {{name: linkerd-gateway-1, namespace: linkerd-multicluster, labels: {{app: linkerd-gateway}}}}\n\
        spec:\n  containers: [{{name: proxy, image: strait}}]\n"
    );
    ok(&env
        .strait(&["--context", "east", "apply", "-f", "-"], Some(&gateway))
        .await);
    env.east
        .patch_status::<Pod>(
            "linkerd-multicluster",
            "linkerd-gateway-1",
            json!({"podIP": "127.0.0.1"}),
        )
        .await
        .unwrap();
    link(&env, &[]).await;
    ok(&env
        .strait(
            &["--context", "west", "apply", "-f", "-"],
            Some(WEST_MIRRORS),
        )
        .await);

    let table = ok(&env
        .strait(&["--context", "west", "multicluster", "gateways"], None)
        .await);
    let mut lines = table.lines();
    assert_eq!(lines.next(), Some("CLUSTER  ALIVE  NUM_SVC  LATENCY"));
    let row: Vec<&str> = lines.next().unwrap_or("").split_whitespace().collect();
    assert_eq!(&row[..3], ["target", "True", "1"], "{table}");
    assert!(row[3].ends_with("ms"), "{table}");
    assert_eq!(lines.next(), None, "{table}");

    let out = ok(&env
        .strait(&["--context", "west", "multicluster", "check"], None)
        .await);
    for line in [
        "√ Link target has a service mirror controller (strait local runs one for every Link)",
        "√ Link target reaches cluster east",
        "√ Link target mirrors exported Services (1 exported)",
        "√ Link target mirrors have endpoints",
        "Status check results are √",
    ] {
        assert!(out.contains(line), "no {line:?} in:\n{out}");
    }
    assert!(out.contains("√ Link target gateway is alive ("), "{out}");

    // The gateway stops answering.
    endpoint.abort();
    let _ = endpoint.await;
    let table = ok(&env
        .strait(&["--context", "west", "multicluster", "gateways"], None)
        .await);
    assert_eq!(
        table,
        "CLUSTER  ALIVE  NUM_SVC  LATENCY\ntarget   False  1        -\n"
    );
    let output = env
        .strait(&["--context", "west", "multicluster", "check"], None)
        .await;
    assert_eq!(output.status.code(), Some(1));
    let out = stdout(&output);
    assert!(
        out.contains(&format!(
            "× Link target gateway is alive\n    http://127.0.0.1:{probe_port}/ready: "
        )),
        "{out}"
    );
}
