//! Watching the control plane's policy for each port the proxy serves.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;
use linkerd2_proxy_api::inbound::inbound_server_policies_client::InboundServerPoliciesClient;
use linkerd2_proxy_api::inbound::{PortSpec, Server};
use strait_backoff::Backoff;
use tokio::sync::watch;
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
}

impl Default for WatcherConfig {
    /// Ten seconds for the first policy (a connection waits no longer), and
    /// retries from 100 ms up to 5 s so a restarted control plane is found
    /// quickly without being flooded.
    fn default() -> Self {
        WatcherConfig {
            first_policy_timeout: Duration::from_secs(10),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
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
    ports: Mutex<HashMap<u16, Ready>>,
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
                ports: Mutex::new(HashMap::new()),
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

    /// The port's readiness channel, starting its watch on first use.
    fn ready(&self, port: u16) -> Result<Ready, PolicyError> {
        let mut ports = self
            .inner
            .ports
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(ready) = ports.get(&port) {
            return Ok(ready.clone());
        }
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| PolicyError::NoRuntime)?;
        let (announce, ready) = watch::channel(None);
        let task = WatchTask {
            connect: self.inner.connect.clone(),
            spec: PortSpec {
                workload: self.inner.workload.clone(),
                port: u32::from(port),
            },
            config: self.inner.config.clone(),
            announce,
            publish: None,
        };
        runtime.spawn(task.run(self.inner.shutdown.subscribe()));
        ports.insert(port, ready.clone());
        Ok(ready)
    }
}

/// One port's watch: streams policies, publishes them, and re-watches with
/// backoff when the stream ends or fails, keeping the last policy meanwhile.
struct WatchTask {
    connect: Connect,
    spec: PortSpec,
    config: WatcherConfig,
    announce: watch::Sender<Option<watch::Receiver<Arc<PortPolicy>>>>,
    publish: Option<watch::Sender<Arc<PortPolicy>>>,
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
        match &self.publish {
            Some(publish) => {
                publish.send_replace(policy);
            }
            None => {
                let (publish, policies) = watch::channel(policy);
                self.announce.send_replace(Some(policies));
                self.publish = Some(publish);
            }
        }
    }
}
