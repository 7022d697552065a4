//! The admin endpoint of long-running processes: `/metrics` (Prometheus
//! text), `/ready` and `/live`, as Linkerd's components and proxies serve
//! them, so kubelet probes and Prometheus scrapes work unchanged.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use prometheus_client::registry::Registry;
use strait_mesh::names::{LIVE_PATH, READY_PATH};
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Whether the process is ready for traffic: `/ready` answers 200 while
/// the value is `true` and 503 otherwise, so a proxy that has no
/// certificate yet is kept out of Service endpoints.
pub type Readiness = watch::Receiver<bool>;

/// A readiness that is always `true`, for processes that are ready as soon
/// as they serve (the controllers).
pub fn always_ready() -> Readiness {
    let (_, ready) = watch::channel(true);
    ready
}

/// Serves the admin endpoint on `addr` until the returned task is aborted.
/// Binding is done before returning so a taken port is reported at start;
/// returns the address bound (port 0 picks a free one).
pub async fn serve(
    addr: SocketAddr,
    registry: Arc<Registry>,
    readiness: Readiness,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_paths(addr, Some(registry), readiness).await
}

/// Serves only `/ready` and `/live` on `addr`: what may face the outside
/// (a gateway's load balancer, which linked clusters probe), where
/// `/metrics` would tell anyone what the proxy carries and for whom.
pub async fn serve_probes(
    addr: SocketAddr,
    readiness: Readiness,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    serve_paths(addr, None, readiness).await
}

async fn serve_paths(
    addr: SocketAddr,
    registry: Option<Arc<Registry>>,
    readiness: Readiness,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let registry = registry.clone();
            let readiness = readiness.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<Incoming>| {
                    let registry = registry.clone();
                    let ready = *readiness.borrow();
                    async move {
                        Ok::<_, Infallible>(respond(
                            request.uri().path(),
                            registry.as_deref(),
                            ready,
                        ))
                    }
                });
                if let Err(err) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!("admin connection ended: {err}");
                }
            });
        }
    });
    Ok((bound, task))
}

fn respond(path: &str, registry: Option<&Registry>, ready: bool) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (path, registry) {
        ("/metrics", Some(registry)) => {
            let mut text = String::new();
            match prometheus_client::encoding::text::encode(&mut text, registry) {
                Ok(()) => (
                    StatusCode::OK,
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    text,
                ),
                Err(err) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    format!("{err}\n"),
                ),
            }
        }
        (READY_PATH, _) if ready => (StatusCode::OK, "text/plain", "ready\n".to_string()),
        (READY_PATH, _) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "not ready\n".to_string(),
        ),
        (LIVE_PATH, _) => (StatusCode::OK, "text/plain", "live\n".to_string()),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain",
            "not found\n".to_string(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

#[cfg(test)]
mod tests;
