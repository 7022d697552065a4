//! Gateway liveness: an HTTP probe of the gateway, as the Link's `probeSpec`
//! says, deciding whether mirror Endpoints list the gateway as ready.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;

use crate::config::Probe;
use crate::metrics::MirrorMetrics;

/// The probe of one gateway, running until dropped.
pub(crate) struct GatewayHealth {
    /// Whether the gateway is alive; starts true so that a starting mirror
    /// does not mark a healthy gateway down before its first probe.
    pub(crate) alive: watch::Receiver<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GatewayHealth {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Probes `address:probe.port` every period; the gateway is down after
/// `failure_threshold` consecutive failures and up again on a success.
pub(crate) fn spawn_probe(
    link: String,
    address: String,
    probe: Probe,
    metrics: MirrorMetrics,
) -> GatewayHealth {
    let (alive_tx, alive) = watch::channel(true);
    metrics.gateway_alive(&link, true);
    let task = tokio::spawn(async move {
        let mut failures = 0u32;
        let mut ticks = tokio::time::interval(probe.period);
        loop {
            ticks.tick().await;
            let start = Instant::now();
            let result = probe_once(&address, &probe).await;
            metrics.gateway_probe(&link, result.is_ok(), start.elapsed());
            match result {
                Ok(()) => failures = 0,
                Err(err) => {
                    failures = failures.saturating_add(1);
                    tracing::debug!(link = %link, gateway = %address, failures, "gateway probe failed: {err}");
                }
            }
            let up = failures < probe.failure_threshold;
            let changed = alive_tx.send_if_modified(|alive| std::mem::replace(alive, up) != up);
            if changed {
                metrics.gateway_alive(&link, up);
                if up {
                    tracing::info!(link = %link, gateway = %address, "gateway is alive again");
                } else {
                    tracing::warn!(link = %link, gateway = %address, failures, "gateway is down; its mirrors' endpoints are marked not ready");
                }
            }
        }
    });
    GatewayHealth { alive, task }
}

/// Why one probe of a gateway failed; logged with the gateway's address.
#[derive(Debug, thiserror::Error)]
enum ProbeError {
    /// No TCP connection to the probe port.
    #[error("connect: {0}")]
    Connect(#[source] std::io::Error),
    /// The HTTP/1 handshake failed.
    #[error("handshake: {0}")]
    Handshake(#[source] hyper::Error),
    /// The probe path or the address make no valid request.
    #[error("request for {path:?}: {source}")]
    Request {
        /// `probeSpec.path`.
        path: String,
        /// What is wrong with the request.
        #[source]
        source: hyper::http::Error,
    },
    /// The request was sent but no response came back.
    #[error("request: {0}")]
    Send(#[source] hyper::Error),
    /// The gateway answered, but not with a 2xx.
    #[error("status {0}")]
    Status(hyper::StatusCode),
    /// Nothing within `probeSpec.timeout`.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

/// One HTTP GET of the probe path; success is a 2xx within the timeout.
async fn probe_once(address: &str, probe: &Probe) -> Result<(), ProbeError> {
    let attempt = async {
        let stream = TcpStream::connect((address, probe.port))
            .await
            .map_err(ProbeError::Connect)?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(ProbeError::Handshake)?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        let request = Request::get(probe.path.as_str())
            .header(hyper::header::HOST, address)
            .body(Empty::<Bytes>::new())
            .map_err(|source| ProbeError::Request {
                path: probe.path.clone(),
                source,
            })?;
        let response = sender
            .send_request(request)
            .await
            .map_err(ProbeError::Send)?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(ProbeError::Status(response.status()))
        }
    };
    match tokio::time::timeout(probe.timeout, attempt).await {
        Ok(result) => result,
        Err(_) => Err(ProbeError::Timeout(probe.timeout)),
    }
}

/// For a gateway with no probe: always alive.
pub(crate) fn always_alive() -> (watch::Sender<bool>, watch::Receiver<bool>) {
    watch::channel(true)
}
