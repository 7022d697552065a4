//! The HTTP/1.1 + JSON server a running `strait local up` embeds, one route
//! tree per cluster.
//!
//! | method and path | body | answer |
//! |---|---|---|
//! | `GET /v1/clusters` | | `[ClusterInfo]` |
//! | `POST /v1/clusters/{c}/apply?namespace=NS` | YAML or JSON, multi-document | [`ApplyResponse`](crate::wire::ApplyResponse) |
//! | `POST /v1/clusters/{c}/delete` | [`DeleteRequest`](crate::wire::DeleteRequest) | [`DeleteResponse`](crate::wire::DeleteResponse) |
//! | `POST /v1/clusters/{c}/label` | [`LabelRequest`](crate::wire::LabelRequest) | [`LabelResponse`](crate::wire::LabelResponse) |
//! | `GET /v1/clusters/{c}/objects?kind=K[&group=G][&namespace=NS]` | | `[object]` |
//! | `GET /v1/clusters/{c}/scrapes?window_secs=N` | | `[PodScrapes]` |
//! | `GET /v1/clusters/{c}/info` | | `ClusterInfo` |
//!
//! Errors are `{"error": "..."}` ([`ErrorBody`]) with a 4xx or 5xx status.
//!
//! Every request must name this API as its `Host`, carry the run's token
//! (`Authorization: Bearer <token>`) and, when it has a body, declare its
//! type: `application/yaml` (or `application/x-yaml`, `text/yaml`) or
//! `application/json` for apply, `application/json` for delete and label.
//! [`guard`] says why each check is there.

mod apply;
mod guard;
mod objects;

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::backend::ClusterBackend;
use crate::token::ApiToken;
use crate::wire::{AppliedObject, ErrorBody};
use guard::{Guard, Media, json_only};

/// Largest request body accepted: manifests, not bulk data.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Longest `window_secs` a scrape request may ask for (a day).
const MAX_WINDOW_SECS: u64 = 86_400;

/// The local API could not start serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not a loopback one: the API is for this machine's
    /// user only, and answers only to loopback names.
    #[error(
        "{addr} is not a loopback address: the local API serves this machine only (use 127.0.0.1 or [::1])"
    )]
    NotLoopback {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address could not be bound. The message is the system's reason
    /// alone, as the caller already names the address it asked for.
    #[error("{source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
}

/// Serves `clusters` on `addr` (a loopback address; port 0 for any free
/// port) to the holders of `token`. Returns the bound address, to record
/// in the [`crate::Registry`], and the task that accepts connections;
/// abort it to stop serving.
pub async fn serve(
    addr: SocketAddr,
    clusters: Vec<Arc<dyn ClusterBackend>>,
    token: ApiToken,
) -> Result<(SocketAddr, JoinHandle<()>), ServeError> {
    if !addr.ip().is_loopback() {
        return Err(ServeError::NotLoopback { addr });
    }
    let bind_error = |source| ServeError::Bind { addr, source };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let guard = Arc::new(Guard::new(token, local.port()));
    let clusters: Arc<HashMap<String, Arc<dyn ClusterBackend>>> = Arc::new(
        clusters
            .into_iter()
            .map(|c| (c.name().to_string(), c))
            .collect(),
    );
    let task = tokio::spawn(async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accepting a local API connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let clusters = clusters.clone();
            let guard = guard.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req| {
                    let clusters = clusters.clone();
                    let guard = guard.clone();
                    async move { Ok::<_, Infallible>(handle(&guard, &clusters, req).await) }
                });
                if let Err(err) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!(%err, %peer, "local API connection ended");
                }
            });
        }
    });
    Ok((local, task))
}

/// A failed request: its status and message, and for a partial apply the
/// objects that were applied.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
    pub(crate) applied: Vec<AppliedObject>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            applied: Vec::new(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// The status of a store error: not found is 404, a conflict 409, an
    /// object its schema refuses 422 (the API server's `Invalid`), an
    /// unavailable store 503, anything else the request's fault.
    pub(crate) fn from_store(err: &strait_store::StoreError) -> Self {
        use strait_store::StoreError;
        let status = match err {
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Conflict { .. } | StoreError::AlreadyExists { .. } => StatusCode::CONFLICT,
            StoreError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Invalid { .. } => StatusCode::BAD_REQUEST,
            StoreError::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, err.to_string())
    }
}

async fn handle(
    guard: &Guard,
    clusters: &HashMap<String, Arc<dyn ClusterBackend>>,
    req: Request<Incoming>,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let Parts {
        ref method,
        ref uri,
        ..
    } = parts;
    let path = uri.path().to_string();
    // Before anything else, and before the body is read.
    let media = match guard.admit(&parts) {
        Ok(media) => media,
        Err(err) => {
            tracing::debug!(%method, %path, error = %err.message, "local API request refused");
            return error_response(err);
        }
    };
    let query = parse_query(uri.query().unwrap_or(""));
    let body = match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) => {
            return error_response(ApiError::bad_request(format!(
                "reading the request body: {err}"
            )));
        }
    };
    match route(clusters, method, &path, &query, media, &body) {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(%method, %path, error = %err.message, "local API request failed");
            error_response(err)
        }
    }
}

fn route(
    clusters: &HashMap<String, Arc<dyn ClusterBackend>>,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    media: Option<Media>,
    body: &[u8],
) -> Result<Response<Full<Bytes>>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let cluster = |name: &str| {
        clusters.get(name).ok_or_else(|| {
            let mut known: Vec<&str> = clusters.keys().map(String::as_str).collect();
            known.sort_unstable();
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!(
                    "no cluster {name:?} here (this API serves: {})",
                    known.join(", ")
                ),
            )
        })
    };
    match (method, segments.as_slice()) {
        (&Method::GET, ["v1", "clusters"]) => {
            let mut infos: Vec<_> = clusters.values().map(|c| c.info()).collect();
            infos.sort_by(|a, b| a.name.cmp(&b.name));
            json_response(StatusCode::OK, &infos)
        }
        (&Method::POST, ["v1", "clusters", name, "apply"]) => {
            let text = std::str::from_utf8(body)
                .map_err(|e| ApiError::bad_request(format!("the body is not UTF-8: {e}")))?;
            let namespace = query.get("namespace").map(String::as_str);
            let response = apply::apply(cluster(name)?.store(), text, namespace)?;
            json_response(StatusCode::OK, &response)
        }
        (&Method::POST, ["v1", "clusters", name, "delete"]) => {
            json_only(&format!("{method} {path}"), media)?;
            let request = json_body(body)?;
            let response = objects::delete(cluster(name)?.store(), &request)?;
            json_response(StatusCode::OK, &response)
        }
        (&Method::POST, ["v1", "clusters", name, "label"]) => {
            json_only(&format!("{method} {path}"), media)?;
            let request = json_body(body)?;
            let response = objects::label(cluster(name)?.store(), &request)?;
            json_response(StatusCode::OK, &response)
        }
        (&Method::GET, ["v1", "clusters", name, "objects"]) => {
            let kind = query
                .get("kind")
                .filter(|k| !k.is_empty())
                .ok_or_else(|| ApiError::bad_request("the kind query parameter is required"))?;
            let list = objects::list(
                cluster(name)?.store(),
                kind,
                query.get("group").map(String::as_str),
                query.get("namespace").map(String::as_str),
            );
            json_response(StatusCode::OK, &list)
        }
        (&Method::GET, ["v1", "clusters", name, "scrapes"]) => {
            let secs = match query.get("window_secs") {
                None => 60,
                Some(text) => text
                    .parse::<u64>()
                    .ok()
                    .filter(|s| (1..=MAX_WINDOW_SECS).contains(s))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!(
                            "window_secs must be a whole number of seconds from 1 to {MAX_WINDOW_SECS}, not {text:?}"
                        ))
                    })?,
            };
            let scrapes = cluster(name)?.scrapes(Duration::from_secs(secs));
            json_response(StatusCode::OK, &scrapes)
        }
        (&Method::GET, ["v1", "clusters", name, "info"]) => {
            json_response(StatusCode::OK, &cluster(name)?.info())
        }
        (_, ["v1", "clusters"] | ["v1", "clusters", _, _]) => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} is not allowed on {path}"),
        )),
        _ => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {method} {path}"),
        )),
    }
}

fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid: {e}")))
}

fn json_response<T: Serialize>(
    status: StatusCode,
    value: &T,
) -> Result<Response<Full<Bytes>>, ApiError> {
    let body = serde_json::to_vec(value).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding the answer: {e}"),
        )
    })?;
    Ok(response(status, body))
}

fn error_response(err: ApiError) -> Response<Full<Bytes>> {
    let status = err.status;
    let body = ErrorBody {
        error: err.message,
        applied: err.applied,
    };
    // An ErrorBody of strings always encodes.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = response(status, bytes);
    if status == StatusCode::UNAUTHORIZED {
        // What HTTP asks of a 401: the scheme the server takes.
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"strait local\""),
        );
    }
    response
}

fn response(status: StatusCode, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// `a=b&c=d%2Fe` as a map; `+` is a space, `%XX` a byte.
pub(crate) fn parse_query(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (
                bytes.get(i + 1).and_then(hex),
                bytes.get(i + 2).and_then(hex),
            ) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(digit: &u8) -> Option<u8> {
    char::from(*digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Encodes a query value: everything but unreserved characters as `%XX`.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
