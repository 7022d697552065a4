//! Discovery: one shared `Destination.Get` stream per authority.

mod decode;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use hyper::body::Body;
use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::destination::{GetDestination, Update};
use parking_lot::Mutex;
use strait_backoff::Backoff;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tonic::Status;
use tonic::client::GrpcService;

use crate::connect::EndpointTarget;
pub(crate) use decode::EndpointMap;

/// What discovery knows about an authority now.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Resolved {
    /// No answer yet.
    #[default]
    Pending,
    /// The endpoints to balance over, by address (never empty).
    Endpoints(Arc<BTreeMap<SocketAddr, EndpointTarget>>),
    /// There is nowhere to send traffic; `exists` says whether the
    /// destination exists at all (a Service without ready endpoints does).
    NoEndpoints {
        /// Whether the destination exists.
        exists: bool,
    },
    /// The control plane refused the lookup (for instance a malformed
    /// authority) and has not answered since; the message says why.
    Failed(String),
    /// The control plane forbids this asker the destination
    /// (`PERMISSION_DENIED`: a Service a gateway may not forward to); the
    /// message says why.
    Refused(String),
}

/// How many discovery streams may be open by default: one per balancer at
/// the most (`OutboundConfig::max_balancers`).
pub const DEFAULT_MAX_STREAMS: usize = 10_000;

/// Timings and limits of the shared streams, so tests can shorten them.
#[derive(Clone, Debug)]
pub struct DiscoveryConfig {
    /// How long a stream stays open with nobody using it, so a burst of
    /// connections to the same authority does not reopen it each time.
    pub idle_timeout: Duration,
    /// The first wait before reopening a failed stream.
    pub backoff_min: Duration,
    /// The longest wait before reopening a failed stream.
    pub backoff_max: Duration,
    /// How many streams may be open: at that number, the unused ones are
    /// closed before another opens, so the authorities a client names
    /// cannot pile up streams (each a task and a stream on the control
    /// plane) for the idle timeout. Streams in use stay: their users (the
    /// balancers) are bounded on their own.
    pub max_streams: usize,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            idle_timeout: Duration::from_secs(60),
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            max_streams: DEFAULT_MAX_STREAMS,
        }
    }
}

type GetFuture = BoxFuture<'static, Result<BoxStream<'static, Result<Update, Status>>, Status>>;
type GetFn = dyn Fn(GetDestination) -> GetFuture + Send + Sync;

/// Resolves authorities through Linkerd's Destination API, sharing one
/// `Get` stream per authority among all its users. Cloning shares the
/// streams.
#[derive(Clone)]
pub struct Discovery {
    inner: Arc<Inner>,
}

struct Inner {
    get: Box<GetFn>,
    context_token: String,
    config: DiscoveryConfig,
    streams: Mutex<HashMap<String, Stream>>,
}

/// One authority's stream: where its resolutions are published, and its
/// task, aborted when the stream is closed to make room.
struct Stream {
    sender: Arc<watch::Sender<Resolved>>,
    task: AbortHandle,
}

impl std::fmt::Debug for Discovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("context_token", &self.inner.context_token)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Linkerd's context token for a proxy in `namespace` on `node` in `pod`:
/// the control plane reads the namespace from it to resolve short names.
pub fn context_token(namespace: &str, node: &str, pod: &str) -> String {
    fn quote(s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 2);
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    format!(
        "{{\"ns\":{},\"nodeName\":{},\"pod\":{}}}",
        quote(namespace),
        quote(node),
        quote(pod)
    )
}

/// `token` with the claim that the asker is a multicluster gateway
/// (`"gateway":true`), so the control plane answers only for the Services
/// its cluster exports through the gateway. A token that is not a JSON
/// object is replaced: a gateway resolves fully qualified names only, which
/// need no namespace. The claim comes last, so it wins over any earlier
/// `gateway` field.
pub fn gateway_context_token(token: &str) -> String {
    let token = token.trim();
    match token
        .strip_prefix('{')
        .and_then(|inner| inner.strip_suffix('}'))
    {
        Some(inner) if !inner.trim().is_empty() => format!("{{{inner},\"gateway\":true}}"),
        _ => "{\"gateway\":true}".to_string(),
    }
}

impl Discovery {
    /// Discovery through `client`, asking with `context_token` (see
    /// [`context_token`]), with the default timings.
    pub fn new<T>(client: DestinationClient<T>, context_token: impl Into<String>) -> Self
    where
        T: GrpcService<tonic::body::Body> + Clone + Send + Sync + 'static,
        T::Future: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        T::ResponseBody: Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    {
        Discovery::with_config(client, context_token, DiscoveryConfig::default())
    }

    /// Discovery through `client` with the given timings.
    pub fn with_config<T>(
        client: DestinationClient<T>,
        context_token: impl Into<String>,
        config: DiscoveryConfig,
    ) -> Self
    where
        T: GrpcService<tonic::body::Body> + Clone + Send + Sync + 'static,
        T::Future: Send,
        T::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        T::ResponseBody: Body<Data = Bytes> + Send + 'static,
        <T::ResponseBody as Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
    {
        let get = move |request: GetDestination| -> GetFuture {
            let mut client = client.clone();
            Box::pin(async move {
                let response = client.get(request).await?;
                Ok(response.into_inner().boxed())
            })
        };
        Discovery {
            inner: Arc::new(Inner {
                get: Box::new(get),
                context_token: context_token.into(),
                config,
                streams: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// What `authority` (`host:port`) resolves to, kept up to date. The
    /// first caller opens the stream (in a task, so this must be called in
    /// a Tokio runtime); it is closed once no receiver has been left for
    /// [`DiscoveryConfig::idle_timeout`].
    pub fn resolve(&self, authority: &str) -> watch::Receiver<Resolved> {
        let mut streams = self.inner.streams.lock();
        if let Some(stream) = streams.get(authority) {
            return stream.sender.subscribe();
        }
        if streams.len() >= self.inner.config.max_streams {
            streams.retain(|authority, stream| {
                let used = stream.sender.receiver_count() > 0;
                if !used {
                    tracing::debug!(%authority, "closing an unused destination stream to make room");
                    stream.task.abort();
                }
                used
            });
        }
        let (sender, receiver) = watch::channel(Resolved::Pending);
        let sender = Arc::new(sender);
        // Spawned under the lock, so the entry has its task before anyone
        // can close it; the task takes the lock only once idle.
        let task = tokio::spawn(run(
            self.inner.clone(),
            authority.to_string(),
            sender.clone(),
        ));
        streams.insert(
            authority.to_string(),
            Stream {
                sender,
                task: task.abort_handle(),
            },
        );
        receiver
    }

    /// How many authorities have a stream open now.
    pub fn open_streams(&self) -> usize {
        self.inner.streams.lock().len()
    }
}

/// Keeps the stream of `authority` open until it has been unused for the
/// idle timeout, then forgets it.
async fn run(inner: Arc<Inner>, authority: String, sender: Arc<watch::Sender<Resolved>>) {
    let follow = follow(&inner, &authority, &sender);
    tokio::pin!(follow);
    loop {
        tokio::select! {
            () = &mut follow => return,
            () = unused(&sender, inner.config.idle_timeout) => {
                let mut streams = inner.streams.lock();
                // Checked under the lock `resolve` subscribes under, so no
                // receiver can appear between the check and the removal.
                if sender.receiver_count() == 0 {
                    if streams
                        .get(&authority)
                        .is_some_and(|s| Arc::ptr_eq(&s.sender, &sender))
                    {
                        streams.remove(&authority);
                    }
                    tracing::debug!(%authority, "closing an unused destination stream");
                    return;
                }
            }
        }
    }
}

/// Resolves once `sender` has had no receiver for `idle`.
async fn unused(sender: &watch::Sender<Resolved>, idle: Duration) {
    loop {
        sender.closed().await;
        tokio::time::sleep(idle).await;
        if sender.receiver_count() == 0 {
            return;
        }
    }
}

/// Opens the stream and applies its updates, reopening it with backoff
/// when it fails or ends. The first update of each new stream replaces
/// what the previous one announced.
async fn follow(inner: &Inner, authority: &str, sender: &watch::Sender<Resolved>) {
    let mut backoff = Backoff::new(inner.config.backoff_min, inner.config.backoff_max);
    loop {
        let request = GetDestination {
            scheme: "k8s".to_string(),
            path: authority.to_string(),
            context_token: inner.context_token.clone(),
        };
        match (inner.get)(request).await {
            Ok(mut stream) => {
                let mut map: Option<EndpointMap> = None;
                loop {
                    match stream.next().await {
                        Some(Ok(update)) => {
                            let map = map.get_or_insert_with(EndpointMap::default);
                            map.apply(update);
                            publish(sender, map);
                            backoff.reset();
                        }
                        Some(Err(status)) => {
                            tracing::info!(%authority, %status, "destination stream failed");
                            // A refusal replaces what the stream said
                            // before; an outage keeps it.
                            if map.is_none() || refusal(status.code()) {
                                fail(sender, &status);
                            }
                            break;
                        }
                        None => {
                            tracing::debug!(%authority, "destination stream ended");
                            break;
                        }
                    }
                }
            }
            Err(status) => {
                tracing::info!(%authority, %status, "destination lookup failed");
                fail(sender, &status);
            }
        }
        tokio::time::sleep(backoff.next_delay()).await;
    }
}

/// Publishes a refusal; an unavailable control plane keeps what was known
/// (stale endpoints beat none).
fn fail(sender: &watch::Sender<Resolved>, status: &Status) {
    sender.send_if_modified(|current| {
        let refused = refusal(status.code());
        if refused || matches!(current, Resolved::Pending | Resolved::Failed(_)) {
            let failed = if status.code() == tonic::Code::PermissionDenied {
                Resolved::Refused(status.message().to_string())
            } else {
                Resolved::Failed(format!(
                    "{}: {}",
                    code_name(status.code()),
                    status.message()
                ))
            };
            if *current != failed {
                *current = failed;
                return true;
            }
        }
        false
    });
}

/// Whether `code` is the control plane's answer about the destination
/// itself (malformed, unknown, forbidden) rather than an outage.
fn refusal(code: tonic::Code) -> bool {
    !matches!(
        code,
        tonic::Code::Unavailable | tonic::Code::Cancelled | tonic::Code::Unknown
    )
}

fn code_name(code: tonic::Code) -> &'static str {
    match code {
        tonic::Code::InvalidArgument => "invalid argument",
        tonic::Code::NotFound => "not found",
        tonic::Code::Unavailable => "unavailable",
        tonic::Code::PermissionDenied => "permission denied",
        tonic::Code::Unimplemented => "unimplemented",
        _ => "error",
    }
}

fn publish(sender: &watch::Sender<Resolved>, map: &EndpointMap) {
    let next = if !map.endpoints.is_empty() {
        Resolved::Endpoints(Arc::new(map.endpoints.clone()))
    } else {
        Resolved::NoEndpoints {
            exists: map.no_endpoints.unwrap_or(true),
        }
    };
    sender.send_if_modified(|current| {
        if *current == next {
            return false;
        }
        *current = next;
        true
    });
}

#[cfg(test)]
mod tests;
