//! The kubectl-like commands (`apply`, `get`, `label`, `delete`) and the
//! choice of context, run as a user runs them against local clusters.

#[allow(dead_code)]
#[path = "support/local_cluster.rs"]
mod support;

use support::{BB, Env, failed, ok, stderr, stdout};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_get_label_delete_as_kubectl_prints_them() {
    let env = Env::start("kubectl").await;
    let file = env.file("bb.yaml", BB);
    let out = ok(&env
        .strait(&["--context", "east", "apply", "-f", &file], None)
        .await);
    assert_eq!(
        out,
        "namespace/mc-demo created\n\
         deployment.apps/bb created\n\
         service/bb created\n\
         server.policy.linkerd.io/bb created\n"
    );
    let out = ok(&env
        .strait(&["apply", "-f", &file, "--context", "east"], None)
        .await);
    assert_eq!(
        out,
        "namespace/mc-demo unchanged\n\
         deployment.apps/bb unchanged\n\
         service/bb unchanged\n\
         server.policy.linkerd.io/bb unchanged\n"
    );
    let changed = env.file(
        "bb2.yaml",
        &BB.replace("port: 8080\n    targetPort", "port: 9090\n    targetPort"),
    );
    let out = ok(&env
        .strait(&["--context=east", "apply", "-f", &changed], None)
        .await);
    assert!(out.contains("service/bb configured\n"), "{out}");

    // -n before or after the subcommand; exact header and columns.
    let ip = env
        .east
        .objects()
        .into_iter()
        .find(|(k, o)| k.kind == "Service" && o["metadata"]["name"] == "bb")
        .map(|(_, o)| o["spec"]["clusterIP"].as_str().unwrap().to_string())
        .unwrap();
    for args in [
        &["--context", "east", "-n", "mc-demo", "get", "svc"][..],
        &["get", "services", "-n", "mc-demo", "--context", "east"][..],
        &["--context", "east", "get", "svc", "--namespace=mc-demo"][..],
    ] {
        let out = ok(&env.strait(args, None).await);
        let mut lines = out.lines();
        let ip_column = "CLUSTER-IP".len().max(ip.len()) + 3;
        assert_eq!(
            lines.next().unwrap(),
            format!(
                "NAME   TYPE        {:<ip_column$}EXTERNAL-IP   PORT(S)    AGE",
                "CLUSTER-IP"
            )
        );
        let row = lines.next().unwrap();
        let prefix = format!("bb     ClusterIP   {ip:<ip_column$}<none>        9090/TCP   ");
        assert!(
            row.starts_with(&prefix),
            "{row:?} does not start with {prefix:?}"
        );
        let age = &row[prefix.len()..];
        assert!(
            age.ends_with('s') && age[..age.len() - 1].parse::<u64>().is_ok(),
            "{age}"
        );
        assert_eq!(lines.next(), None);
    }
    let all = ok(&env
        .strait(&["--context", "east", "get", "deploy", "-A"], None)
        .await);
    let mut lines = all.lines();
    assert_eq!(
        lines.next().unwrap(),
        "NAMESPACE   NAME   READY   UP-TO-DATE   AVAILABLE   AGE"
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("mc-demo     bb     0/1     0            0           ")
    );
    let servers = ok(&env
        .strait(
            &["--context", "east", "-n", "mc-demo", "get", "servers"],
            None,
        )
        .await);
    assert!(servers.starts_with("NAME   AGE\nbb     "), "{servers}");
    let empty = env.strait(&["--context", "east", "get", "svc"], None).await;
    assert!(empty.status.success());
    assert_eq!(stdout(&empty), "");
    assert_eq!(stderr(&empty), "No resources found in default namespace.\n");

    let named = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "get",
                "svc",
                "bb",
                "-o",
                "name",
            ],
            None,
        )
        .await);
    assert_eq!(named, "service/bb\n");
    let yaml = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "get",
                "svc",
                "bb",
                "-o",
                "yaml",
            ],
            None,
        )
        .await);
    assert!(
        yaml.starts_with("apiVersion: v1\nkind: Service\n"),
        "{yaml}"
    );
    let missing = env
        .strait(
            &["--context", "east", "-n", "mc-demo", "get", "svc", "nope"],
            None,
        )
        .await;
    assert_eq!(
        failed(&missing),
        "Error from server (NotFound): services \"nope\" not found\n"
    );

    // Labels: set, refuse to overwrite, overwrite, remove.
    let exported = "mirror.linkerd.io/exported=remote-discovery";
    let out = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "label",
                "svc/bb",
                exported,
            ],
            None,
        )
        .await);
    assert_eq!(out, "service/bb labeled\n");
    let err = failed(
        &env.strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "label",
                "svc",
                "bb",
                "mirror.linkerd.io/exported=true",
            ],
            None,
        )
        .await,
    );
    assert_eq!(
        err,
        "error: 'mirror.linkerd.io/exported' already has a value (remote-discovery), and --overwrite is false\n"
    );
    let out = ok(&env
        .strait(
            &[
                "label",
                "svc/bb",
                "mirror.linkerd.io/exported=true",
                "--overwrite",
                "--context",
                "east",
                "-n",
                "mc-demo",
            ],
            None,
        )
        .await);
    assert_eq!(out, "service/bb labeled\n");
    let out = ok(&env
        .strait(
            &[
                "--context",
                "east",
                "-n",
                "mc-demo",
                "label",
                "svc/bb",
                "mirror.linkerd.io/exported-",
            ],
            None,
        )
        .await);
    assert_eq!(out, "service/bb unlabeled\n");
    let svc = env
        .east
        .objects()
        .into_iter()
        .find(|(k, o)| k.kind == "Service" && o["metadata"]["name"] == "bb")
        .unwrap()
        .1;
    assert!(
        svc["metadata"]["labels"]
            .get("mirror.linkerd.io/exported")
            .is_none(),
        "{svc}"
    );

    // Delete, both forms; a missing object is named.
    let out = ok(&env
        .strait(
            &["--context", "east", "-n", "mc-demo", "delete", "svc/bb"],
            None,
        )
        .await);
    assert_eq!(out, "service \"bb\" deleted\n");
    let err = failed(
        &env.strait(
            &["--context", "east", "-n", "mc-demo", "delete", "svc", "bb"],
            None,
        )
        .await,
    );
    assert_eq!(
        err,
        "Error from server (NotFound): services \"bb\" not found\n"
    );
    let out = ok(&env
        .strait(
            &[
                "delete",
                "deploy",
                "bb",
                "-n",
                "mc-demo",
                "--context",
                "east",
            ],
            None,
        )
        .await);
    assert_eq!(out, "deployment.apps \"bb\" deleted\n");

    // A bad document: what came before stays, the failure is named.
    let bad = env.file("bad.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: mc-demo}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: nowhere}\n");
    let output = env
        .strait(&["--context", "east", "apply", "-f", &bad], None)
        .await;
    assert_eq!(stdout(&output), "configmap/a created\n");
    let err = failed(&output);
    assert!(
        err.contains("document 2: ConfigMap \"b\": namespaces \"nowhere\" not found"),
        "{err}"
    );
    assert!(err.contains("stays applied"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_and_stdin_apply_with_a_default_namespace() {
    let env = Env::start("dir").await;
    let out = ok(&env
        .strait(&["--context", "west", "create", "ns", "mc-demo"], None)
        .await);
    assert_eq!(out, "namespace/mc-demo created\n");
    let err = failed(
        &env.strait(
            &["create", "namespace", "mc-demo", "--context", "west"],
            None,
        )
        .await,
    );
    assert_eq!(
        err,
        "Error from server (AlreadyExists): namespaces \"mc-demo\" already exists\n"
    );
    let out = ok(&env
        .strait(
            &["--context", "west", "apply", "-f", "-"],
            Some("apiVersion: v1\nkind: Namespace\nmetadata: {name: mc-demo}\n"),
        )
        .await);
    assert_eq!(out, "namespace/mc-demo unchanged\n");
    let dir = env.home.join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("b.yml"),
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: slow-cooker}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("a.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a manifest").unwrap();
    let out = ok(&env
        .strait(
            &[
                "--context",
                "west",
                "-n",
                "mc-demo",
                "apply",
                "-f",
                dir.to_str().unwrap(),
            ],
            None,
        )
        .await);
    assert_eq!(
        out,
        "configmap/cfg created\nserviceaccount/slow-cooker created\n"
    );
    let sa = ok(&env
        .strait(&["--context", "west", "-n", "mc-demo", "get", "sa"], None)
        .await);
    assert!(
        sa.starts_with("NAME          SECRETS   AGE\nslow-cooker   0         "),
        "{sa}"
    );
    assert!(
        env.west
            .objects()
            .iter()
            .any(|(k, o)| k.kind == "ConfigMap" && o["metadata"]["namespace"] == "mc-demo")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contexts_resolve_as_kubectl_resolves_them() {
    let env = Env::start("contexts").await;
    // No --context: the user's current context, a Kubernetes one whose
    // cluster this kubeconfig does not define.
    let err = failed(&env.strait(&["get", "svc"], None).await);
    assert!(err.contains("\"k8s\""), "{err}");
    for args in [
        &["--context", "k8s", "get", "svc"][..],
        &["--context", "k8s", "label", "svc/bb", "a=b"][..],
        &["--context", "k8s", "delete", "svc/bb"][..],
        &["--context", "k8s", "multicluster", "check"][..],
    ] {
        let err = failed(&env.strait(args, None).await);
        assert!(
            err.contains("invalid kubeconfig context \"k8s\""),
            "{args:?}: {err}"
        );
    }
    let err = failed(
        &env.strait(&["--context", "north", "get", "svc"], None)
            .await,
    );
    let user = env.user_kubeconfig.display().to_string();
    let local = env.home.join("kubeconfig").display().to_string();
    assert!(
        err.contains(&format!(
            "context \"north\" is not in the kubeconfig (searched {user}, {local})"
        )),
        "{err}"
    );
    // Without a current context of the user's, STRAIT_HOME's: the first
    // local cluster.
    std::fs::write(
        &env.user_kubeconfig,
        support::USER_KUBECONFIG.replace("current-context: k8s\n", ""),
    )
    .unwrap();
    let out = ok(&env.strait(&["create", "ns", "current"], None).await);
    assert_eq!(out, "namespace/current created\n");
    assert!(
        env.east
            .objects()
            .iter()
            .any(|(k, o)| k.kind == "Namespace" && o["metadata"]["name"] == "current")
    );
}
