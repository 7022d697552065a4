//! Watching the control plane's policy for each port the proxy serves.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use linkerd2_proxy_api::inbound::{PortSpec, Server};
use parking_lot::Mutex;
use strait_backoff::Backoff;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tonic::codec::Streaming;
use tonic::codegen::{Body, Bytes, StdError};
use tracing::{debug, info, warn};

use super::{PolicyError, PortPolicy, port_policy};

/// How the watcher waits and retries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatcherConfig {
    /// How long [`PolicyWatcher::policy`] waits for a port's first policy
    /// before giving up (and the caller refuses the traffic).
    pub first_policy_timeout: Duration,
    /// The first wait before watching again after the stream failed.
    pub backoff_min: Duration,
    /// The longest wait between attempts; waits double up to it.
    pub backoff_max: Duration,
    /// How long a port's watch stays open with no connection using it, so
    /// a client that connects to many ports (every inbound port of a pod is
    /// redirected to the proxy) does not leave a `WatchPort` stream open on
    /// the policy service for each.
    pub idle_timeout: Duration,
    /// How many ports may be watched at once: at that number the idle ones
    /// are closed, and a new port is refused while every watch is in use.
    pub max_ports: usize,
}

/// How many ports a proxy watches at most by default: far more than any
/// pod declares.
pub const DEFAULT_MAX_PORTS: usize = 1024;

impl Default for WatcherConfig {
    /// Ten seconds for the first policy (a connection waits no longer),
    /// retries from 100 ms up to 5 s so a restarted control plane is found
    /// quickly without being flooded, a minute before an unused port's
    /// watch closes, and [`DEFAULT_MAX_PORTS`] watches.
    fn default() -> Self {
        WatcherConfig {
            first_policy_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(60),
            max_ports: DEFAULT_MAX_PORTS,
        }
    }
}

/// Opens a `WatchPort` stream; erases the client's transport type so the
/// watcher (and everything holding it) is not generic.
type Connect = Arc<
    dyn Fn(PortSpec) -> BoxFuture<'static, Result<Streaming<Server>, tonic::Status>> + Send + Sync,
>;

/// Set once the port's first policy arrived: the channel of its policies.
type Ready = watch::Receiver<Option<watch::Receiver<Arc<PortPolicy>>>>;

/// Where a port's watch announces the channel of its policies.
type Announce = watch::Sender<Option<watch::Receiver<Arc<PortPolicy>>>>;

/// The sender of a port's policies, once the first one arrived.
type Publish = Arc<Mutex<Option<watch::Sender<Arc<PortPolicy>>>>>;

/// One watched port: its channels (shared with its task, so that whether
/// anyone uses it can be read) and its task.
struct PortWatch {
    announce: Arc<Announce>,
    publish: Publish,
    task: AbortHandle,
    /// Since when nobody has used it, as of the last sweep.
    idle_since: Option<Instant>,
}

impl PortWatch {
    /// Whether a connection (or a caller waiting for the first policy)
    /// holds one of its channels; the announced value holds one policies
    /// receiver itself.
    fn in_use(&self) -> bool {
        self.announce.receiver_count() > 0
            || self
                .publish
                .lock()
                .as_ref()
                .is_some_and(|publish| publish.receiver_count() > 1)
    }
}

impl Drop for PortWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The watched ports, and whether their sweeper runs.
#[derive(Default)]
struct Ports {
    watches: HashMap<u16, PortWatch>,
    sweeping: bool,
}

impl Ports {
    /// Marks unused watches idle and closes those idle for `idle` or more.
    fn sweep(&mut self, idle: Duration) {
        let now = Instant::now();
        self.watches.retain(|port, watch| {
            if watch.in_use() {
                watch.idle_since = None;
                return true;
            }
            let since = *watch.idle_since.get_or_insert(now);
            let keep = now.duration_since(since) < idle;
            if !keep {
                debug!(port, "closing the policy watch of an unused port");
            }
            keep
        });
    }
}

/// Keeps the inbound policy of every port asked about, one `WatchPort`
/// stream per port shared by all its connections. Cloning shares the
/// watches; dropping the last clone stops them.
#[derive(Clone)]
pub struct PolicyWatcher {
    inner: Arc<Inner>,
}

struct Inner {
    workload: String,
    config: WatcherConfig,
    connect: Connect,
    ports: Mutex<Ports>,
    /// Never sent on; its drop (with the last watcher) ends the watch tasks.
    shutdown: watch::Sender<()>,
}

impl fmt::Debug for PolicyWatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyWatcher")
            .field("workload", &self.inner.workload)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl PolicyWatcher {
    /// A watcher asking `client` about the pod `workload` names (Linkerd's
    /// JSON form, `{"ns":"<namespace>","pod":"<pod>"}`). Nothing is asked
    /// until a port's policy is wanted.
    pub fn new<T>(client: InboundServerPoliciesClient<T>, workload: impl Into<String>) -> Self
    where
        T: tonic::client::GrpcService<tonic::body::Body> + Clone + Send + Sync + 'static,
        T::Future: Send,
        T::Error: Into<StdError>,
        T::ResponseBody: Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as Body>::Error: Into<StdError> + Send,
    {
        Self::with_config(client, workload, WatcherConfig::default())
    }

    /// [`PolicyWatcher::new`] with explicit timeouts.
    pub fn with_config<T>(
        client: InboundServerPoliciesClient<T>,
        workload: impl Into<String>,
        config: WatcherConfig,
    ) -> Self
    where
        T: tonic::client::GrpcService<tonic::body::Body> + Clone + Send + Sync + 'static,
        T::Future: Send,
        T::Error: Into<StdError>,
        T::ResponseBody: Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as Body>::Error: Into<StdError> + Send,
    {
        let connect: Connect = Arc::new(move |spec: PortSpec| {
            let mut client = client.clone();
            Box::pin(async move {
                client
                    .watch_port(spec)
                    .await
                    .map(tonic::Response::into_inner)
            })
        });
        let (shutdown, _) = watch::channel(());
        PolicyWatcher {
            inner: Arc::new(Inner {
                workload: workload.into(),
                config,
                connect,
                ports: Mutex::new(Ports::default()),
                shutdown,
            }),
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &WatcherConfig {
        &self.inner.config
    }

    /// The current policy of `port` and its changes, waiting up to the
    /// configured timeout for the first one. On error the caller must
    /// refuse the traffic.
    pub async fn policy(&self, port: u16) -> Result<watch::Receiver<Arc<PortPolicy>>, PolicyError> {
        self.policy_within(port, self.inner.config.first_policy_timeout)
            .await
    }

    /// [`PolicyWatcher::policy`] with its own timeout. The watch started
    /// for the port keeps running after a timeout, so a later connection
    /// finds the policy as soon as the control plane answers.
    pub async fn policy_within(
        &self,
        port: u16,
        timeout: Duration,
    ) -> Result<watch::Receiver<Arc<PortPolicy>>, PolicyError> {
        let mut ready = self.ready(port)?;
        let waited = tokio::time::timeout(timeout, async {
            ready
                .wait_for(Option::is_some)
                .await
                .ok()
                .and_then(|current| current.clone())
        })
        .await;
        match waited {
            Ok(Some(policies)) => Ok(policies),
            _ => Err(PolicyError::Timeout { port, timeout }),
        }
    }

    /// How many ports are watched now.
    pub fn watched_ports(&self) -> usize {
        self.inner.ports.lock().watches.len()
    }

    /// The port's readiness channel, starting its watch on first use (and
    /// the sweeper of idle watches with the first). At the cap every unused
    /// watch is closed first, so a port is refused only while
    /// [`WatcherConfig::max_ports`] watches are all in use.
    fn ready(&self, port: u16) -> Result<Ready, PolicyError> {
        let config = &self.inner.config;
        let mut ports = self.inner.ports.lock();
        if let Some(watch) = ports.watches.get_mut(&port) {
            watch.idle_since = None;
            return Ok(watch.announce.subscribe());
        }
        if ports.watches.len() >= config.max_ports {
            ports.sweep(Duration::ZERO);
            if ports.watches.len() >= config.max_ports {
                return Err(PolicyError::TooManyPorts {
                    port,
                    max: config.max_ports,
                });
            }
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| PolicyError::NoRuntime)?;
        if !ports.sweeping {
            ports.sweeping = true;
            runtime.spawn(sweep_idle(
                Arc::downgrade(&self.inner),
                self.inner.shutdown.subscribe(),
            ));
        }
        let (announce, ready) = watch::channel(None);
        let announce = Arc::new(announce);
        let publish: Publish = Arc::default();
        let task = WatchTask {
            connect: self.inner.connect.clone(),
            spec: PortSpec {
                workload: self.inner.workload.clone(),
                port: u32::from(port),
            },
            config: config.clone(),
            announce: announce.clone(),
            publish: publish.clone(),
        };
        let task = runtime.spawn(task.run(self.inner.shutdown.subscribe()));
        ports.watches.insert(
            port,
            PortWatch {
                announce,
                publish,
                task: task.abort_handle(),
                idle_since: None,
            },
        );
        Ok(ready)
    }
}

/// Closes the watches nobody used for the idle timeout, checking every half
/// of it (within 10 ms and 30 s), until the watcher is gone.
async fn sweep_idle(inner: Weak<Inner>, mut shutdown: watch::Receiver<()>) {
    let tick = match inner.upgrade() {
        Some(inner) => (inner.config.idle_timeout / 2)
            .clamp(Duration::from_millis(10), Duration::from_secs(30)),
        None => return,
    };
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            () = tokio::time::sleep(tick) => {}
        }
        let Some(inner) = inner.upgrade() else {
            return;
        };
        inner.ports.lock().sweep(inner.config.idle_timeout);
    }
}

/// One port's watch: streams policies, publishes them, and re-watches with
/// backoff when the stream ends or fails, keeping the last policy meanwhile.
struct WatchTask {
    connect: Connect,
    spec: PortSpec,
    config: WatcherConfig,
    announce: Arc<Announce>,
    publish: Publish,
}

impl WatchTask {
    async fn run(mut self, mut shutdown: watch::Receiver<()>) {
        let mut backoff = Backoff::new(self.config.backoff_min, self.config.backoff_max);
        loop {
            let received = tokio::select! {
                _ = shutdown.changed() => return,
                received = self.watch_once() => received,
            };
            if received {
                backoff.reset();
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                () = tokio::time::sleep(backoff.next_delay()) => {}
            }
        }
    }

    /// Watches until the stream ends; whether any policy was received.
    async fn watch_once(&mut self) -> bool {
        let port = self.spec.port;
        let mut stream = match (self.connect)(self.spec.clone()).await {
            Ok(stream) => stream,
            Err(status) => {
                warn!(port, code = ?status.code(), message = status.message(), "cannot watch the inbound policy");
                return false;
            }
        };
        let mut received = false;
        loop {
            match stream.message().await {
                Ok(Some(server)) => {
                    received = true;
                    let policy = Arc::new(port_policy(&server));
                    info!(port, server = %policy.server, protocol = ?policy.protocol, "inbound policy");
                    self.publish(policy);
                }
                Ok(None) => {
                    debug!(port, "the inbound policy stream ended");
                    return received;
                }
                Err(status) => {
                    warn!(port, code = ?status.code(), message = status.message(), "the inbound policy stream failed");
                    return received;
                }
            }
        }
    }

    fn publish(&mut self, policy: Arc<PortPolicy>) {
        let mut publish = self.publish.lock();
        match publish.as_ref() {
            Some(publish) => {
                publish.send_replace(policy);
            }
            None => {
                let (sender, policies) = watch::channel(policy);
                self.announce.send_replace(Some(policies));
                *publish = Some(sender);
            }
        }
    }
}
