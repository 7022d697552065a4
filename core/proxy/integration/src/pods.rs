//! Proxies in pods as on Kubernetes: each pod a network namespace on one
//! node ([`strait_test_support::netns`]), the init container's rules
//! (`strait-proxy-init`) in it, and the sidecar, strait's or Linkerd's own
//! (`linkerd2-proxy`), run inside it as the proxy's user, configured by
//! the variables Linkerd's injector sets. Nothing is bound directly: the
//! proxies learn each connection's original destination from the rules.
//!
//! The control plane runs in the test, either on the node's address over
//! TLS, as on a cluster, or on each pod's own loopback in plaintext (a
//! server per pod, bound inside its namespace), the other way both proxies
//! accept.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Child;

use strait_control_plane::{ControlPlane, ServerTransport};
use strait_destination::ClusterConfig;
use strait_destination_server::connect_embedded;
use strait_identity::{EmbeddedTokens, ServiceAccountRef, SigningCa};
use strait_mesh::env;
use strait_mesh::names::{DEFAULT_TRUST_DOMAIN, LINK_NAMESPACE};
use strait_mesh::ports::{ADMIN_PORT, CONTROL_PORT, INBOUND_PORT, OUTBOUND_PORT};
use strait_plugin_distribution::PluginOffer;
use strait_policy::IndexConfig;
use strait_store::MemoryStore;
use strait_test_support::netns::{Node, Pod};
use strait_test_support::objects;

use crate::{ControlAddrs, identity};

/// bb's port, as in the guide.
pub const PORT: u16 = 8080;

/// bb's opaque port: a TCP echo behind a Server with `proxyProtocol:
/// opaque`, marked in the Service's `config.linkerd.io/opaque-ports`.
pub const OPAQUE_PORT: u16 = 9090;

/// bb's Service's address: the pods' rules send connections to it to their
/// proxy, which never passes it on as such.
pub const CLUSTER_IP: &str = "10.96.0.10";

/// bb's Service by name, as the clients write it in `Host`.
pub const AUTHORITY: &str = "bb.mc-demo.svc.cluster.local:8080";

/// The guide's workloads at the pods' addresses on `node`: `pods` are
/// `(pod, ServiceAccount)`, bb first, each pod `<pod>-1` with the label
/// `app=<ServiceAccount>`; bb behind a Service at [`CLUSTER_IP`] on
/// [`PORT`], with the guide's Server and AuthorizationPolicy admitting
/// slow-cooker only; and [`OPAQUE_PORT`], opaque, with its own Server
/// and AuthorizationPolicy admitting slow-cooker only.
pub fn guide_in_pods(store: &MemoryStore, node: &Node, pods: &[(&str, &str)]) {
    crate::namespaces(store, &[crate::NS, crate::CONTROL_PLANE_NS]);
    for (name, sa) in pods {
        let ip = node.pod(name).ip.to_string();
        let built = objects::pod(crate::NS, &format!("{name}-1"))
            .label("app", sa)
            .service_account(sa)
            .container(sa, &[("http", PORT), ("tcp", OPAQUE_PORT)])
            .meshed()
            .ip(&ip);
        crate::apply(store, built.build());
    }
    let Some((bb, _)) = pods.first() else {
        return;
    };
    let mut service = objects::service(crate::NS, "bb")
        .cluster_ip(CLUSTER_IP)
        .selector("app", "bb")
        .port("http", PORT, PORT)
        .port("tcp", OPAQUE_PORT, OPAQUE_PORT)
        .build();
    service["metadata"]["annotations"] =
        serde_json::json!({"config.linkerd.io/opaque-ports": OPAQUE_PORT.to_string()});
    crate::apply(store, service);
    crate::apply(
        store,
        objects::endpoint_slice(crate::NS, "bb-slice", "bb")
            .endpoint(&node.pod(bb).ip.to_string(), &format!("{bb}-1"), true)
            .port("http", PORT)
            .port("tcp", OPAQUE_PORT)
            .build(),
    );
    crate::apply_all(store, strait_test_support::guide::policy(PORT));
    crate::apply(
        store,
        objects::server_with_protocol(crate::NS, "bb-tcp", "bb", OPAQUE_PORT, "opaque"),
    );
    crate::apply(
        store,
        objects::authorization_policy(crate::NS, "bb-tcp-authz", "bb-tcp", "bb-good"),
    );
}

/// The proxy's user (`strait-proxy-init`'s default): its own connections
/// leave the pod as dialed.
pub const PROXY_UID: u32 = 2102;

/// The environment variable that names a `linkerd2-proxy` binary for the
/// tests and the benchmark that run Linkerd's proxy beside strait's.
pub const LINKERD2_PROXY_BIN: &str = "LINKERD2_PROXY_BIN";

/// The environment variable that sets both proxies' log filter in the
/// pods (Linkerd's default, `warn,linkerd=info`, when unset).
pub const POD_PROXY_LOG: &str = "POD_PROXY_LOG";

/// Which sidecar a pod runs.
#[derive(Clone, Debug)]
pub enum Sidecar {
    /// strait's proxy, from this binary.
    Strait(PathBuf),
    /// Linkerd's proxy, unmodified, from this binary.
    Linkerd(PathBuf),
}

impl Sidecar {
    /// Linkerd's proxy when [`LINKERD2_PROXY_BIN`] names one.
    pub fn linkerd() -> Option<Sidecar> {
        std::env::var_os(LINKERD2_PROXY_BIN).map(|path| Sidecar::Linkerd(PathBuf::from(path)))
    }

    /// `strait` or `linkerd`, for messages and tables.
    pub fn name(&self) -> &'static str {
        match self {
            Sidecar::Strait(_) => "strait",
            Sidecar::Linkerd(_) => "linkerd",
        }
    }
}

/// Applies the init container's rules (Linkerd's ports and proxy user) in
/// `pod`'s namespace.
pub fn init_pod(pod: &Pod) -> Result<(), String> {
    let runner = strait_proxy_init::Runner {
        netns: Some(pod.path()),
        ..strait_proxy_init::Runner::default()
    };
    runner
        .apply(&strait_proxy_init::Config::default())
        .map(|_| ())
        .map_err(|e| format!("proxy-init in {}: {e}", pod.name))
}

/// A sidecar running in its pod; killed when dropped.
pub struct PodProxy {
    child: Child,
    /// Where the node reaches the proxy's admin server.
    pub admin: SocketAddr,
    /// The file its output goes to.
    pub log: PathBuf,
    /// Which proxy it is.
    pub sidecar: Sidecar,
}

impl PodProxy {
    /// The process id, for its memory and CPU.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// What the proxy logged so far, for a failure message.
    pub fn logged(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Whether the process is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for PodProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pod's workload: who it runs as, and the ports its containers declare.
pub struct Workload<'a> {
    /// The pod's namespace.
    pub ns: &'a str,
    /// The pod's name.
    pub pod: &'a str,
    /// Its ServiceAccount: the identity it is certified for, and its
    /// token (`<sa>-token`, as the test control planes accept).
    pub sa: &'a str,
    /// The container ports, as Linkerd's injector lists them.
    pub ports: &'a [u16],
}

/// Starts `sidecar` in `pod` for `workload`, against `plane`, with the
/// trust anchors `anchors` (PEM), its files (token, identity directory,
/// log) under `dir`, and one worker thread as both proxies default to.
pub fn start_proxy(
    sidecar: &Sidecar,
    pod: &Pod,
    workload: &Workload<'_>,
    anchors: &str,
    plane: &ControlAddrs,
    dir: &Path,
) -> PodProxy {
    let own = dir.join(format!("{}-{}", workload.pod, sidecar.name()));
    let identity_dir = own.join("identity");
    if let Err(e) = std::fs::create_dir_all(&identity_dir) {
        panic!("{}: {e}", identity_dir.display());
    }
    let token = own.join("token");
    if let Err(e) = std::fs::write(&token, format!("{}-token", workload.sa)) {
        panic!("{}: {e}", token.display());
    }
    if matches!(sidecar, Sidecar::Linkerd(_)) {
        identity_documents(&identity_dir, &identity(workload.sa, workload.ns));
    }
    open_to_proxy_user(&own);
    let log = own.join("stderr.log");
    let stderr = match std::fs::File::create(&log) {
        Ok(file) => file,
        Err(e) => panic!("{}: {e}", log.display()),
    };
    let program = match sidecar {
        Sidecar::Strait(path) | Sidecar::Linkerd(path) => path,
    };
    let program = runnable_by_proxy_user(program, &own);
    let mut command = pod.command(&program, Some(PROXY_UID));
    // Linkerd's proxy logs on stdout, strait's on stderr: one file for both.
    let stdout = match stderr.try_clone() {
        Ok(file) => file,
        Err(e) => panic!("{}: {e}", log.display()),
    };
    command.env_clear().stdout(stdout).stderr(stderr);
    let ip = pod.ip.to_string();
    let context = format!(r#"{{"ns":"{}","pod":"{}"}}"#, workload.ns, workload.pod);
    let ports = workload
        .ports
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let vars: Vec<(&str, String)> = vec![
        (
            env::LOG,
            std::env::var(POD_PROXY_LOG).unwrap_or_else(|_| "warn,linkerd=info".into()),
        ),
        (env::CORES, "1".into()),
        (env::INBOUND_LISTEN_ADDR, format!("0.0.0.0:{INBOUND_PORT}")),
        (
            env::OUTBOUND_LISTEN_ADDR,
            format!("127.0.0.1:{OUTBOUND_PORT}"),
        ),
        (env::ADMIN_LISTEN_ADDR, format!("0.0.0.0:{ADMIN_PORT}")),
        (env::IDENTITY_LOCAL_NAME, identity(workload.sa, workload.ns)),
        (env::IDENTITY_TRUST_ANCHORS, anchors.to_string()),
        (env::IDENTITY_TOKEN_FILE, token.display().to_string()),
        (env::IDENTITY_SVC_ADDR, plane.identity.0.to_string()),
        (env::DESTINATION_SVC_ADDR, plane.destination.0.to_string()),
        (env::POLICY_SVC_ADDR, plane.policy.0.to_string()),
        (env::POLICY_WORKLOAD, context.clone()),
        (env::DESTINATION_CONTEXT, context),
        // Linkerd's proxy reads these too; strait's ignores them.
        (
            "LINKERD2_PROXY_IDENTITY_DIR",
            identity_dir.display().to_string(),
        ),
        (
            "LINKERD2_PROXY_CONTROL_LISTEN_ADDR",
            format!("0.0.0.0:{CONTROL_PORT}"),
        ),
        ("LINKERD2_PROXY_INBOUND_IPS", ip.clone()),
        ("LINKERD2_PROXY_INBOUND_PORTS", ports),
        (
            "LINKERD2_PROXY_DESTINATION_PROFILE_SUFFIXES",
            format!("svc.{DEFAULT_TRUST_DOMAIN}."),
        ),
        (
            "LINKERD2_PROXY_DESTINATION_PROFILE_NETWORKS",
            "10.0.0.0/8".into(),
        ),
        (
            "LINKERD2_PROXY_POLICY_CLUSTER_NETWORKS",
            "10.0.0.0/8".into(),
        ),
        (
            "LINKERD2_PROXY_INBOUND_DEFAULT_POLICY",
            "all-unauthenticated".into(),
        ),
        ("LINKERD2_PROXY_SHUTDOWN_ENDPOINT_ENABLED", "false".into()),
        // strait's own: the pod's address, the only source its outbound
        // side serves.
        (env::SOURCE_IP, ip),
    ];
    for (name, value) in vars {
        command.env(name, value);
    }
    for (name, server) in [
        (env::IDENTITY_SVC_NAME, &plane.identity.1),
        (env::DESTINATION_SVC_NAME, &plane.destination.1),
        (env::POLICY_SVC_NAME, &plane.policy.1),
    ] {
        if let Some(server) = server {
            command.env(name, server);
        }
    }
    let child = match command.spawn() {
        Ok(child) => child,
        Err(e) => panic!("starting {} in {}: {e}", program.display(), pod.name),
    };
    PodProxy {
        child,
        admin: SocketAddr::new(IpAddr::V4(pod.ip), ADMIN_PORT),
        log,
        sidecar: sidecar.clone(),
    }
}

/// What Linkerd's proxy container writes before its proxy starts (the
/// `proxy-identity` step of its entrypoint): an ECDSA P-256 key
/// (`key.p8`, PKCS#8 DER) and a signing request for `name` (`csr.der`),
/// with the name as the subject's common name and as the DNS SAN.
fn identity_documents(dir: &Path, name: &str) {
    let made = (|| -> Result<(Vec<u8>, Vec<u8>), rcgen::Error> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec![name.to_string()])?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let csr = params.serialize_request(&key)?;
        Ok((key.serialize_der(), csr.der().to_vec()))
    })();
    let (key, csr) = match made {
        Ok(documents) => documents,
        Err(e) => panic!("a key and CSR for {name}: {e}"),
    };
    for (file, bytes) in [("key.p8", key), ("csr.der", csr)] {
        if let Err(e) = std::fs::write(dir.join(file), bytes) {
            panic!("{}: {e}", dir.join(file).display());
        }
    }
}

/// `program` where the proxy's user can run it: the build directory may
/// sit under a home the user cannot enter, so a link to it (a copy across
/// file systems) in `dir`, which it can.
pub fn runnable_by_proxy_user(program: &Path, dir: &Path) -> PathBuf {
    let name = program.file_name().unwrap_or(std::ffi::OsStr::new("proxy"));
    let runnable = dir.join(name);
    let _ = std::fs::remove_file(&runnable);
    if std::fs::hard_link(program, &runnable).is_err()
        && let Err(e) = std::fs::copy(program, &runnable)
    {
        panic!("{} -> {}: {e}", program.display(), runnable.display());
    }
    open_to_proxy_user(dir);
    runnable
}

/// Waits (up to 20 s) until `proxy` answers `/ready` with 200 to the node
/// at `node_ip`; fails with what the proxy logged when it never does or
/// exits.
pub async fn wait_ready(proxy: &mut PodProxy, node_ip: IpAddr) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let (status, _) =
            strait_test_support::net::http_get(node_ip, proxy.admin, "admin", "/ready").await;
        if status == 200 {
            return;
        }
        if !proxy.running() || std::time::Instant::now() > deadline {
            panic!(
                "the {} proxy at {} never became ready; it logged:\n{}",
                proxy.sidecar.name(),
                proxy.admin,
                proxy.logged()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}

/// Lets the proxy's user read (and the identity directory write) what the
/// test wrote as root.
fn open_to_proxy_user(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        let mode = if path.is_dir() {
            0o777
        } else {
            // Keep the executable bit of a program.
            let executable = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false);
            if executable { 0o755 } else { 0o644 }
        };
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode));
        if let Ok(entries) = std::fs::read_dir(&path) {
            stack.extend(entries.flatten().map(|e| e.path()));
        }
    }
    // The directories above it must be searchable too.
    let mut parent = dir.parent();
    while let Some(p) = parent {
        if let Ok(meta) = std::fs::metadata(p) {
            let mode = meta.permissions().mode() | 0o011;
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        }
        if p == std::env::temp_dir() {
            break;
        }
        parent = p.parent();
    }
}

/// A whole control plane (identity, policy, destination) serving `pod` on
/// its own loopback in plaintext, as both proxies accept a loopback control
/// plane: identity under `root` for the `(namespace, sa)` accounts
/// (tokens `<sa>-token`), authz plugins from `plugins`.
pub async fn loopback_control_plane(
    pod: &Pod,
    store: &MemoryStore,
    root: &SigningCa,
    accounts: &[(&str, &str)],
    plugins: &PluginOffer,
) -> (strait_control_plane::RunningControlPlane, ControlAddrs) {
    let tokens = EmbeddedTokens::new();
    for (ns, sa) in accounts {
        tokens.register(format!("{sa}-token"), ServiceAccountRef::new(*ns, *sa));
    }
    let cluster = "local";
    let clusters = std::sync::Arc::new(std::collections::BTreeMap::from([(
        cluster.to_string(),
        store.clone(),
    )]));
    let listener = pod.bind(SocketAddr::from(([127, 0, 0, 1], 0)));
    let served = ControlPlane::new()
        .with_identity(
            strait_test_support::identity::certifier(root, &format!("identity.{}", pod.name)),
            tokens,
        )
        .with_policy(store.clone(), IndexConfig::default(), plugins)
        .with_destination(
            store.clone(),
            cluster,
            ClusterConfig::default(),
            LINK_NAMESPACE,
            connect_embedded(clusters),
        )
        .serve_listener(listener, ServerTransport::Plaintext)
        .await;
    let running = match served {
        Ok(running) => running,
        Err(e) => panic!("the control plane in {} does not serve: {e}", pod.name),
    };
    let addr = running.local_addr();
    let addrs = ControlAddrs {
        identity: (addr, None),
        destination: (addr, None),
        policy: (addr, None),
    };
    (running, addrs)
}
