//! A test's pair of local clusters, east and west: each store served by
//! the test process through the Kubernetes API, as `strait local up`
//! serves it, named by the kubeconfig in a temporary STRAIT_HOME, and the
//! `strait` binary run against them as a user runs it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use strait_apiserver::{ApiError, ClusterHost, LogQuery, LogStream};
use strait_multicluster::ClusterInfo;
use strait_store::{MemoryStore, Reachability};

/// What a test cluster serves beside the Kubernetes API: its settings, and
/// no pods or metrics.
struct TestHost {
    name: String,
}

impl ClusterHost for TestHost {
    fn log(&self, _namespace: &str, pod: &str, _query: &LogQuery) -> Result<LogStream, ApiError> {
        Err(ApiError::not_found("pods", pod))
    }
    fn scrapes(&self, _window: Duration) -> serde_json::Value {
        serde_json::Value::Array(Vec::new())
    }
    fn info(&self) -> serde_json::Value {
        serde_json::to_value(ClusterInfo {
            name: self.name.clone(),
            trust_anchors_pem: "-----BEGIN CERTIFICATE-----\nshared\n-----END CERTIFICATE-----\n"
                .into(),
            cluster_domain: "cluster.local".into(),
            trust_domain: "cluster.local".into(),
            control_plane_namespace: "linkerd".into(),
        })
        .unwrap()
    }
}

/// The user's own kubeconfig: one Kubernetes context, current, whose
/// cluster it does not define.
pub const USER_KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncontexts:\n- name: k8s\n  context: {cluster: k8s, user: me}\ncurrent-context: k8s\n";

/// Two clusters, east and west, served and named in a fresh STRAIT_HOME.
pub struct Env {
    pub home: PathBuf,
    pub east: MemoryStore,
    pub west: MemoryStore,
    /// `KUBECONFIG` for the commands: the user's own kubeconfig.
    pub user_kubeconfig: PathBuf,
}

impl Env {
    pub async fn start(tag: &str) -> Env {
        let home =
            std::env::temp_dir().join(format!("strait-cli-local-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let east = MemoryStore::new();
        let west = MemoryStore::with_service_range("10.112.0.0".parse().unwrap(), 12);
        let mut apis = Vec::new();
        for (name, store) in [("east", &east), ("west", &west)] {
            // strait's kinds, as every local cluster has them.
            for definition in strait_api::custom_resource_definitions().unwrap() {
                store.register_definition(&definition).unwrap();
            }
            // The control plane's and the multicluster extension's
            // namespaces, as every installed (or local) cluster has them.
            for namespace in ["linkerd", "linkerd-multicluster"] {
                store
                    .apply_json(
                        serde_json::json!({"apiVersion": "v1", "kind": "Namespace",
                                           "metadata": {"name": namespace}}),
                        "test",
                    )
                    .unwrap();
            }
            let host = Arc::new(TestHost { name: name.into() });
            let (api, _task) =
                strait_local::kube_api::start(name, store.clone(), Reachability::new(), Some(host))
                    .await
                    .unwrap();
            apis.push(api);
        }
        // As `strait local up` does: the clusters' kubeconfig in STRAIT_HOME.
        strait_local::kube_api::write(&home, &apis).unwrap();
        let user_kubeconfig = home.join("user-kubeconfig");
        std::fs::write(&user_kubeconfig, USER_KUBECONFIG).unwrap();
        Env {
            home,
            east,
            west,
            user_kubeconfig,
        }
    }

    /// Runs `strait ARGS` with `stdin`, off the runtime's threads.
    pub async fn strait(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let home = self.home.clone();
        let kubeconfig = self.user_kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_strait"))
                .args(&args)
                .env("STRAIT_HOME", &home)
                .env("HOME", &home)
                .env("KUBECONFIG", &kubeconfig)
                .env_remove("RUST_LOG")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut pipe = child.stdin.take().unwrap();
            if let Some(text) = stdin {
                pipe.write_all(text.as_bytes()).unwrap();
            }
            drop(pipe);
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.home.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn ok(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}\n{}",
        stdout(output),
        stderr(output)
    );
    stdout(output)
}

pub fn failed(output: &Output) -> String {
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}\n{}",
        stdout(output),
        stderr(output)
    );
    stderr(output)
}

pub const BB: &str = r#"---
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
"#;
