//! A test's pair of local clusters, east and west: served by the test
//! process through the local API, registered in a temporary STRAIT_HOME,
//! and the `strait` binary run against them as a user runs it.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use strait_local_api::{
    ApiToken, ClusterBackend, ClusterInfo, LocalContext, PodScrapes, Registry, serve,
};
use strait_store::MemoryStore;

struct TestCluster {
    name: String,
    store: MemoryStore,
}

impl ClusterBackend for TestCluster {
    fn name(&self) -> &str {
        &self.name
    }
    fn store(&self) -> &MemoryStore {
        &self.store
    }
    fn scrapes(&self, _window: Duration) -> Vec<PodScrapes> {
        Vec::new()
    }
    fn info(&self) -> ClusterInfo {
        ClusterInfo {
            name: self.name.clone(),
            trust_anchors_pem: "-----BEGIN CERTIFICATE-----\nshared\n-----END CERTIFICATE-----\n"
                .into(),
            cluster_domain: "cluster.local".into(),
            trust_domain: "cluster.local".into(),
            control_plane_namespace: "linkerd".into(),
        }
    }
}

/// Two clusters, east and west, served and registered in a fresh STRAIT_HOME.
pub struct Env {
    pub home: PathBuf,
    pub east: MemoryStore,
    pub west: MemoryStore,
}

impl Env {
    pub async fn start(tag: &str) -> Env {
        let home =
            std::env::temp_dir().join(format!("strait-cli-local-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let east = MemoryStore::new();
        let west = MemoryStore::with_service_range("10.112.0.0".parse().unwrap(), 12);
        let backends: Vec<Arc<dyn ClusterBackend>> = vec![
            Arc::new(TestCluster {
                name: "east".into(),
                store: east.clone(),
            }),
            Arc::new(TestCluster {
                name: "west".into(),
                store: west.clone(),
            }),
        ];
        // As `strait local up` does: a fresh token, served and written to
        // the file the registry entries name.
        let token = ApiToken::generate().unwrap();
        let (addr, _task) = serve("127.0.0.1:0".parse().unwrap(), backends, token.clone())
            .await
            .unwrap();
        let registry = Registry::in_dir(&home);
        let token_file = registry.token_file(addr);
        token.write_file(&token_file).unwrap();
        let context = |dir: &str| LocalContext {
            api: format!("http://{addr}"),
            dir: home.join(dir),
            pid: std::process::id(),
            token_file: Some(token_file.clone()),
        };
        let contexts = BTreeMap::from([
            ("east".to_string(), context("east")),
            ("west".to_string(), context("west")),
        ]);
        registry.register(&contexts).unwrap();
        std::fs::write(
            home.join("kubeconfig"),
            "apiVersion: v1\nkind: Config\ncontexts:\n- name: k8s\n  context: {cluster: k8s, user: me}\ncurrent-context: k8s\n",
        )
        .unwrap();
        Env { home, east, west }
    }

    /// Runs `strait ARGS` with `stdin`, off the runtime's threads.
    pub async fn strait(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let home = self.home.clone();
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        let stdin = stdin.map(str::to_string);
        tokio::task::spawn_blocking(move || {
            let mut child = Command::new(env!("CARGO_BIN_EXE_strait"))
                .args(&args)
                .env("STRAIT_HOME", &home)
                .env("HOME", &home)
                .env("KUBECONFIG", home.join("kubeconfig"))
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
