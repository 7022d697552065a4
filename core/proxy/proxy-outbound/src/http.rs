//! Forwarding HTTP requests to balanced endpoints.
//!
//! A request that wants an HTTP/1.1 upgrade (WebSocket, ...) or is a
//! `CONNECT` is resolved, balanced and counted as any other: a `CONNECT`
//! is sent, as a request, to the endpoint discovered for the authority it
//! names, as Linkerd forwards it; the proxy never opens a raw connection
//! on its say-so, so there is a tunnel only if the server that receives
//! the `CONNECT` accepts it. It travels as HTTP/1.1 over a connection of
//! its own to the endpoint (mTLS to a meshed one), counted in the
//! endpoint's TCP series, never as a stream of the HTTP/2 connection to a
//! proxy; if the endpoint switches protocols, the client's connection and
//! that one become a tunnel (`strait_proxy_http::http_upgrade`).

pub(crate) mod client;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Method, Request, Response, StatusCode, Uri, Version};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::{Body, Incoming};
use strait_proxy_metrics::RequestSeries;

use crate::balance::{Endpoint, InFlight};
use crate::connect::{Connect, EndpointTarget, Hint};
use crate::gateway::GatewayScope;
use crate::outbound::{EndpointExtra, Entry, Shared, Unavailable};
use client::ReqBody;
use strait_proxy_http::http_upgrade::{self, PendingUpgrade};
use strait_proxy_http::pool::ConnectedAt;
use strait_proxy_http::{L5D_ORIG_PROTO, can_upgrade, downgrade, strip_hop_by_hop, upgrade};
use strait_proxy_metrics::{HttpError, ProxyMetrics};

/// The body of responses: the endpoint's, or the proxy's own error text.
pub(crate) type RespBody = BoxBody<Bytes, hyper::Error>;

/// How slow an endpoint that could not be reached is taken to be.
const CONNECT_FAILURE_PENALTY: Duration = Duration::from_secs(1);

/// The header naming the proxy's error, as Linkerd's proxy sends it.
const PROXY_ERROR: HeaderName = HeaderName::from_static("l5d-proxy-error");

/// Answers one request of the application: resolves its authority, picks
/// an endpoint and forwards it, sending it once more to another endpoint
/// when the first cannot be reached and the body allows it. A request a
/// proxy upgraded to HTTP/2 (one a gateway receives) is first restored to
/// its original version.
pub(crate) async fn handle<C: Connect>(
    shared: &Shared<C>,
    mut request: Request<Incoming>,
    orig_dst: Option<SocketAddr>,
    gateway: Option<&GatewayScope>,
) -> Response<RespBody> {
    let metrics = &shared.metrics;
    let absolute_form = if request.version() == Version::HTTP_2 {
        match downgrade(&mut request) {
            Ok(orig) => orig.is_some_and(|orig| orig.absolute_form),
            Err(error) => return own_error(metrics, HttpError::BadRequest, error.to_string()),
        }
    } else {
        request.uri().scheme().is_some()
    };
    let authority = match request_authority(&request, orig_dst) {
        Ok(authority) => authority,
        Err(error) => return own_error(metrics, HttpError::BadRequest, error.to_string()),
    };
    if let Some(refusal) = gateway.and_then(|scope| scope.check(&authority).err()) {
        tracing::debug!(%authority, %refusal, "gateway refused a request");
        return own_error(metrics, HttpError::Forbidden, refusal.to_string());
    }
    let entry = shared.entry(&authority);
    if let Err(unavailable) = shared.ready(&authority, &entry).await {
        tracing::debug!(%authority, %unavailable, "no endpoint for a request");
        let (kind, status) = match unavailable {
            Unavailable::Refused(..) => (HttpError::Forbidden, StatusCode::FORBIDDEN),
            Unavailable::Failed(..) => (HttpError::Unexpected, StatusCode::BAD_GATEWAY),
            Unavailable::NotFound(..) => (HttpError::Unexpected, StatusCode::SERVICE_UNAVAILABLE),
            Unavailable::NoEndpoints(..) | Unavailable::Pending(..) | Unavailable::FailFast(..) => {
                (HttpError::FailFast, StatusCode::SERVICE_UNAVAILABLE)
            }
        };
        metrics.outbound_http_error(kind);
        return error_response(status, unavailable.to_string());
    }

    let pending = PendingUpgrade::take(&mut request);
    let (mut parts, body) = request.into_parts();
    if pending.is_none() {
        strip_hop_by_hop(&mut parts.headers);
    }
    let body = match replayable(body, &parts.headers, shared.config.max_buffered_body).await {
        Ok(body) => body,
        Err(error) => {
            return own_error(
                metrics,
                HttpError::BadRequest,
                format!("reading the request body failed: {error}"),
            );
        }
    };
    let head = Head {
        method: parts.method,
        path: parts
            .uri
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/")),
        version: parts.version,
        headers: parts.headers,
        authority,
        absolute_form,
        upgrade: pending.is_some(),
    };

    let Some((result, endpoint)) = send_balanced(shared, &entry, &head, body).await else {
        return own_error(
            metrics,
            HttpError::FailFast,
            format!("{} has no ready endpoints", head.authority),
        );
    };
    respond(&head, &endpoint, result, pending)
}

/// The outbound side's own answer to a request no endpoint saw, counted
/// in `outbound_http_errors_total` by `kind` (the endpoints' series count
/// the rest).
fn own_error(metrics: &ProxyMetrics, kind: HttpError, message: String) -> Response<RespBody> {
    metrics.outbound_http_error(kind);
    let status = match kind {
        HttpError::BadRequest => StatusCode::BAD_REQUEST,
        HttpError::Forbidden => StatusCode::FORBIDDEN,
        HttpError::FailFast | HttpError::Unexpected => StatusCode::SERVICE_UNAVAILABLE,
    };
    error_response(status, message)
}

/// Sends the request to the endpoint the balancer picks, and once more to
/// another when the first cannot be reached and the body was buffered;
/// `None` when there is no endpoint to pick.
async fn send_balanced<C: Connect>(
    shared: &Shared<C>,
    entry: &Entry<C>,
    head: &Head,
    body: Outgoing,
) -> Option<(Sent<EndpointExtra<C>>, Arc<Endpoint<EndpointExtra<C>>>)> {
    let endpoint = entry.balancer.pick(None)?;
    let metrics = &shared.metrics;
    let bytes = match body {
        Outgoing::Buffered(bytes) => bytes,
        Outgoing::Streaming(body) => {
            return Some((send(head, body, &endpoint, metrics).await, endpoint));
        }
    };
    match send(head, full(bytes.clone()), &endpoint, metrics).await {
        Err(SendError::Connect(error, in_flight)) => {
            in_flight.failed(CONNECT_FAILURE_PENALTY);
            drop(in_flight);
            let failed = endpoint.target.addr;
            match entry.balancer.pick(Some(failed)) {
                Some(other) => {
                    tracing::debug!(%failed, retry = %other.target.addr, %error, "retrying on another endpoint");
                    Some((send(head, full(bytes), &other, metrics).await, other))
                }
                None => Some((Err(SendError::Connect(error, endpoint.start())), endpoint)),
            }
        }
        other => Some((other, endpoint)),
    }
}

/// The answer to the application: the endpoint's, in the client's HTTP
/// version (and, when it switches protocols, the start of the tunnel), or
/// the proxy's own error; counted in the endpoint's series either way.
fn respond<C: Connect>(
    head: &Head,
    endpoint: &Endpoint<EndpointExtra<C>>,
    result: Sent<EndpointExtra<C>>,
    pending: Option<PendingUpgrade>,
) -> Response<RespBody> {
    let series = &endpoint.extra.series;
    series.request();
    match result {
        Ok((mut response, in_flight, started, connected_at)) => {
            in_flight.answered_over(connected_at.map(|ConnectedAt(at)| at));
            drop(in_flight);
            record_response(series, response.status(), started.elapsed());
            match pending {
                Some(pending) => {
                    pending.answered(&mut response);
                }
                None => strip_hop_by_hop(response.headers_mut()),
            }
            let (mut parts, body) = response.into_parts();
            if parts.version == Version::HTTP_2 && head.version != Version::HTTP_2 {
                // The answer to an upgraded request, in the client's version.
                parts.headers.remove(L5D_ORIG_PROTO);
                parts.version = head.version;
            }
            Response::from_parts(parts, body.boxed())
        }
        Err(SendError::Connect(error, in_flight)) => {
            in_flight.failed(CONNECT_FAILURE_PENALTY);
            let status = StatusCode::BAD_GATEWAY;
            record_response(series, status, Duration::ZERO);
            error_response(
                status,
                format!("connecting to {} failed: {error}", endpoint.target.addr),
            )
        }
        Err(SendError::Request(error, in_flight, started)) => {
            drop(in_flight);
            let status = StatusCode::BAD_GATEWAY;
            record_response(series, status, started.elapsed());
            error_response(
                status,
                format!("the request to {} failed: {error}", endpoint.target.addr),
            )
        }
        Err(SendError::Build(error)) => {
            error_response(StatusCode::BAD_REQUEST, format!("invalid request: {error}"))
        }
    }
}

fn record_response(series: &RequestSeries, status: StatusCode, latency: Duration) {
    let code = status.as_u16();
    series.latency(code, latency.as_secs_f64() * 1000.0);
    series.response(code, !status.is_server_error());
}

/// The parts of a request kept to send it again.
struct Head {
    method: Method,
    path: PathAndQuery,
    version: Version,
    headers: HeaderMap,
    authority: String,
    /// Whether an HTTP/1 request named its target in absolute form.
    absolute_form: bool,
    /// Whether it wants an upgrade, so goes on a connection of its own.
    upgrade: bool,
}

enum Outgoing {
    Buffered(Bytes),
    Streaming(ReqBody),
}

/// Any error of sending a request: the pool's, or hyper's on a connection
/// of the request's own.
type BoxError = Box<dyn std::error::Error + Send + Sync>;

enum SendError<E> {
    /// The endpoint could not be reached: the request was not sent.
    Connect(BoxError, InFlight<E>),
    /// The request failed once sent.
    Request(BoxError, InFlight<E>, Instant),
    /// The request could not be built for the endpoint.
    Build(http::Error),
}

/// The response, the request's place in the endpoint's load, when it was
/// sent, and when its pooled connection was made.
type Sent<E> = Result<
    (
        Response<Incoming>,
        InFlight<E>,
        Instant,
        Option<ConnectedAt>,
    ),
    SendError<E>,
>;

/// Sends the request to `endpoint` over the pool of its version, with the
/// endpoint's authority override when it has one. HTTP/1 requests to an
/// endpoint that runs a proxy go as HTTP/2 (see `strait_proxy_http`),
/// except those that want an upgrade, which go over a connection of
/// their own.
async fn send<C: Connect>(
    head: &Head,
    body: ReqBody,
    endpoint: &Arc<Endpoint<EndpointExtra<C>>>,
    metrics: &ProxyMetrics,
) -> Sent<EndpointExtra<C>> {
    let mut request = match build(head, body, &endpoint.target) {
        Ok(request) => request,
        Err(error) => return Err(SendError::Build(error)),
    };
    if head.upgrade {
        return send_own(request, endpoint, metrics).await;
    }
    let upgraded =
        endpoint.target.protocol_hint == Hint::H2 && can_upgrade(head.version, &head.method);
    if upgraded {
        upgrade(&mut request, head.absolute_form);
    }
    let pools = &endpoint.extra.pools;
    let in_flight = endpoint.start();
    let started = Instant::now();
    let sent = if upgraded || head.version == Version::HTTP_2 {
        pools.http2.send(request).await
    } else {
        pools.http1.send(request).await
    };
    match sent {
        Ok((response, connected_at)) => Ok((response, in_flight, started, Some(connected_at))),
        Err(error) if error.is_connect() => Err(SendError::Connect(error.into(), in_flight)),
        Err(error) => Err(SendError::Request(error.into(), in_flight, started)),
    }
}

/// Sends a request that wants an upgrade over a new connection to
/// `endpoint`, counted in the endpoint's TCP series for as long as it
/// lives (the tunnel's life, if the endpoint switches protocols).
async fn send_own<C: Connect>(
    request: Request<ReqBody>,
    endpoint: &Arc<Endpoint<EndpointExtra<C>>>,
    metrics: &ProxyMetrics,
) -> Sent<EndpointExtra<C>> {
    let in_flight = endpoint.start();
    let started = Instant::now();
    let io = match endpoint.extra.pools.own.open().await {
        Ok(io) => io,
        Err(error) => return Err(SendError::Connect(error.into(), in_flight)),
    };
    let io = crate::tcp::counted_until_dropped(metrics, endpoint.extra.series.lease(), io);
    match http_upgrade::send(io, request).await {
        Ok(response) => Ok((response, in_flight, started, None)),
        Err(error) => Err(SendError::Request(error.into(), in_flight, started)),
    }
}

/// The request `head` describes, for `target`. Pooled requests name the
/// authority in their URI (the HTTP/1 pool writes the target in the form
/// the connection wants); a request on a connection of its own is
/// written as its URI is, so it gets the form the client used: authority
/// form for `CONNECT`, absolute or origin form for the rest.
fn build(
    head: &Head,
    body: ReqBody,
    target: &EndpointTarget,
) -> Result<Request<ReqBody>, http::Error> {
    let authority = target
        .authority_override
        .as_deref()
        .unwrap_or(&head.authority);
    let uri = if head.upgrade && head.method == Method::CONNECT {
        Uri::builder().authority(authority).build()?
    } else if head.upgrade && !head.absolute_form {
        Uri::builder().path_and_query(head.path.clone()).build()?
    } else {
        Uri::builder()
            .scheme(Scheme::HTTP)
            .authority(authority)
            .path_and_query(head.path.clone())
            .build()?
    };
    let mut request = Request::new(body);
    *request.method_mut() = head.method.clone();
    *request.uri_mut() = uri;
    *request.version_mut() = head.version;
    *request.headers_mut() = head.headers.clone();
    // HTTP/1 names the authority in Host (kept as the client sent it
    // unless a gateway needs another, and written in when missing on a
    // connection no pool fills it in on); HTTP/2 in the URI.
    let has_host = request.headers().contains_key(header::HOST);
    let override_host =
        target.authority_override.is_some() && (head.version != Version::HTTP_2 || has_host);
    if override_host || (head.upgrade && !has_host) {
        let host = HeaderValue::from_str(authority)?;
        request.headers_mut().insert(header::HOST, host);
    }
    Ok(request)
}

/// Why a request names no destination the proxy can route; answered with
/// 400 and this text.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthorityError {
    /// The `Host` header has bytes that are not visible ASCII.
    #[error("the Host header is not text")]
    HostNotText(#[source] header::ToStrError),
    /// The `Host` header is not an authority.
    #[error("invalid Host header {host:?}: {source}")]
    InvalidHost {
        /// The header as sent.
        host: String,
        /// What the URI parser said.
        #[source]
        source: http::uri::InvalidUri,
    },
    /// An authority with no host, or with user information.
    #[error("invalid authority {0:?}")]
    Invalid(String),
    /// Neither an authority, a `Host` header, nor an original destination.
    #[error("the request names no authority")]
    Missing,
}

/// The request's authority as `host:port`: `:authority` or `Host`, with the
/// original destination's port (else 80) when it names none; the original
/// destination itself when there is neither.
fn request_authority<B>(
    request: &Request<B>,
    orig_dst: Option<SocketAddr>,
) -> Result<String, AuthorityError> {
    let default_port = || orig_dst.map_or(80, |dst| dst.port());
    let named = match request.uri().authority() {
        Some(authority) => match plain_authority(authority.as_str().as_bytes(), default_port) {
            Some(plain) => return Ok(plain),
            None => Some(authority.clone()),
        },
        None => match request.headers().get(header::HOST) {
            Some(host) => match plain_authority(host.as_bytes(), default_port) {
                Some(plain) => return Ok(plain),
                None => Some(parse_host(host)?),
            },
            None => None,
        },
    };
    match named {
        Some(authority) => normalized(&authority, default_port()),
        None => orig_dst
            .map(|dst| dst.to_string())
            .ok_or(AuthorityError::Missing),
    }
}

/// A `Host` header as an authority, by the URI parser's rules.
fn parse_host(host: &HeaderValue) -> Result<Authority, AuthorityError> {
    let host = host.to_str().map_err(AuthorityError::HostNotText)?;
    host.parse::<Authority>()
        .map_err(|source| AuthorityError::InvalidHost {
            host: host.to_string(),
            source,
        })
}

/// `authority` as `host:port`, its host in lowercase, `default_port` when
/// it names none; refused with user information or without a host.
fn normalized(authority: &Authority, default_port: u16) -> Result<String, AuthorityError> {
    if authority.host().is_empty() || authority.as_str().contains('@') {
        return Err(AuthorityError::Invalid(authority.as_str().to_string()));
    }
    let port = authority.port_u16().unwrap_or(default_port);
    Ok(format!("{}:{port}", authority.host().to_ascii_lowercase()))
}

/// The common case without the URI parser and its copies: `text` names a
/// host of lowercase letters, digits, dots and dashes, with a port of
/// digits without a leading zero that fits 16 bits, or none. What
/// [`normalized`] would make of it, or `None` for anything else (which
/// takes the general path, and gets its answer or its error).
fn plain_authority(text: &[u8], default_port: impl FnOnce() -> u16) -> Option<String> {
    let (host, port) = match text.iter().position(|&b| b == b':') {
        Some(colon) => (&text[..colon], Some(&text[colon + 1..])),
        None => (text, None),
    };
    let host_byte =
        |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-';
    if host.is_empty() || !host.iter().all(host_byte) {
        return None;
    }
    // Only ASCII from here: the bytes are text.
    let host = std::str::from_utf8(host).ok()?;
    match port {
        None => Some(format!("{host}:{}", default_port())),
        Some(port) => {
            let canonical = (1..=5).contains(&port.len())
                && port.iter().all(u8::is_ascii_digit)
                && (port.len() == 1 || port[0] != b'0');
            let text = std::str::from_utf8(text).ok()?;
            (canonical && text[host.len() + 1..].parse::<u16>().is_ok()).then(|| text.to_owned())
        }
    }
}

/// The body as something that can be sent twice when it is empty or small
/// enough (by its `content-length`) to buffer; else the stream itself.
async fn replayable(
    body: Incoming,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Outgoing, hyper::Error> {
    if body.is_end_stream() {
        return Ok(Outgoing::Buffered(Bytes::new()));
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    match length {
        Some(length) if length <= limit => {
            let collected = body.collect().await?;
            Ok(Outgoing::Buffered(collected.to_bytes()))
        }
        _ => Ok(Outgoing::Streaming(body.boxed())),
    }
}

fn full(bytes: Bytes) -> ReqBody {
    if bytes.is_empty() {
        return Empty::new().map_err(|never| match never {}).boxed();
    }
    Full::new(bytes).map_err(|never| match never {}).boxed()
}

/// A response of the proxy's own, its text saying what went wrong.
pub(crate) fn error_response(status: StatusCode, message: String) -> Response<RespBody> {
    let header =
        HeaderValue::from_str(&message).unwrap_or_else(|_| HeaderValue::from_static("proxy error"));
    let mut body = message;
    body.push('\n');
    let mut response = Response::new(
        Full::new(Bytes::from(body))
            .map_err(|never| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response.headers_mut().insert(PROXY_ERROR, header);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests;
