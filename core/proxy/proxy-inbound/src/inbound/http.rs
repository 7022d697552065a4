//! HTTP: every request is routed, authorized with its route's candidates
//! and, if admitted, forwarded to the application in the client's HTTP
//! version. Refusals are answered on the same connection, which stays open.
//!
//! An HTTP/1.1 upgrade (WebSocket, ...) or `CONNECT` is routed, authorized
//! and counted as any request; admitted, it goes to the application over a
//! connection of its own, and if the application switches protocols the
//! client's connection and that one are joined into a tunnel
//! (`strait_proxy_http::http_upgrade`). A refused one is answered 403 and
//! nothing is upgraded.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::{http1, http2};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use strait_decisions::authz::{
    ClientTls, Decision, HttpRequest, Inbound as AuthzRequest, Protocol, ResourceRef,
};
use strait_decisions::identity::identity_name_problem;
use strait_http_detect::Protocol as Detected;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;
use tracing::debug;

use super::metrics::{BoxError, ConnectionSeries, ResponseBody, ResponseRecorder, is_grpc};
use super::upstream::Upstream;
use super::{Connection, Forward, Shared};
use crate::policy::matching::RequestParts;
use crate::policy::{PortPolicy, Route};
use strait_proxy_http::http_upgrade::{HeldOpen, PendingUpgrade, wants_upgrade};
use strait_proxy_http::{OrigProto, downgrade, strip_hop_by_hop, upgrade};

/// gRPC's `PERMISSION_DENIED`.
const GRPC_PERMISSION_DENIED: &str = "7";

/// Serves HTTP on `io` until the client closes it or it becomes a
/// tunnel; a tunnel holds `held` while it runs.
pub(super) async fn serve<I>(
    shared: Arc<Shared>,
    io: I,
    version: Detected,
    connection: Connection,
    policies: watch::Receiver<Arc<PortPolicy>>,
    held: HeldOpen,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let http2 = version == Detected::Http2;
    let upstream = Upstream::new(connection.app, http2, shared.config.connect_timeout);
    let handler = Arc::new(Handler {
        shared,
        connection,
        policies,
        upstream,
        http2,
        series: ConnectionSeries::default(),
        held,
    });
    // Each request's handling is boxed: hyper moves the future it gets
    // into a task of its own per HTTP/2 stream, and a pointer is cheaper to
    // move than the handling's whole state (policy, authz call, upstream).
    let service = service_fn(move |request: Request<Incoming>| {
        let handler = handler.clone();
        let handling = Box::pin(async move { handler.handle(request).await });
        async move { Ok::<_, Infallible>(handling.await) }
    });
    let io = TokioIo::new(io);
    let served = if http2 {
        http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .serve_connection(io, service)
            .await
    } else {
        http1::Builder::new()
            .timer(TokioTimer::new())
            .serve_connection(io, service)
            .with_upgrades()
            .await
    };
    if let Err(e) = served {
        debug!(error = %e, "inbound HTTP connection ended with an error");
    }
}

/// The header Linkerd's inbound proxy sets to the client's verified mesh
/// identity, which applications written for Linkerd trust.
const L5D_CLIENT_ID: HeaderName = HeaderName::from_static("l5d-client-id");

/// Who sent a request: the connection's peer, unless the peer is proven
/// (by mTLS) to be one of the `trusted` gateways, whose requests carry
/// the client it verified in `l5d-client-id` (set by its own inbound side,
/// over whatever its client sent). From a gateway, no such header means
/// the gateway itself; two of them, or one that is not a mesh identity, is
/// an error, never a guess. From anyone else the header proves nothing
/// and is replaced (see [`set_client_id`]).
fn request_client(
    peer: &ClientTls,
    trusted: &BTreeSet<String>,
    headers: &HeaderMap,
) -> Result<ClientTls, &'static str> {
    let ClientTls::Mtls(identity) = peer else {
        return Ok(peer.clone());
    };
    if !trusted.contains(identity) {
        return Ok(peer.clone());
    }
    let mut named = headers.get_all(&L5D_CLIENT_ID).iter();
    match (named.next(), named.next()) {
        (None, _) => Ok(peer.clone()),
        (Some(_), Some(_)) => Err("more than one l5d-client-id"),
        (Some(value), None) => {
            let text = value
                .to_str()
                .map_err(|_| "an l5d-client-id that is not text")?;
            match identity_name_problem(text) {
                None => Ok(ClientTls::Mtls(text.to_string())),
                Some(_) => Err("an l5d-client-id that is not a mesh identity"),
            }
        }
    }
}

/// Replaces whatever `l5d-client-id` the client sent with its verified
/// identity (none without mTLS): a client must not claim another's.
fn set_client_id(headers: &mut HeaderMap, tls: &ClientTls) {
    headers.remove(&L5D_CLIENT_ID);
    if let ClientTls::Mtls(identity) = tls
        && let Ok(value) = HeaderValue::from_str(identity)
    {
        headers.insert(L5D_CLIENT_ID, value);
    }
}

/// Whether `path` is in the one form route matching can trust: no `.` or
/// `..` segments, no empty segments (`//`), no backslash, and no
/// percent-encoded dot, slash or backslash. A prefix rule for `/public`
/// would otherwise admit `/public/../admin`, `/public/%2e%2e/admin` or
/// `//admin`, which the application resolves to `/admin`; such requests
/// are refused rather than rewritten, as the client can send the
/// canonical form.
fn canonical_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    let encoded_separator = |w: &[u8]| {
        w[0] == b'%'
            && matches!(
                (w[1], w[2].to_ascii_lowercase()),
                (b'2', b'e' | b'f') | (b'5', b'c')
            )
    };
    if bytes.contains(&b'\\') || bytes.windows(3).any(encoded_separator) {
        return false;
    }
    let Some(rest) = path.strip_prefix('/') else {
        // `*` (OPTIONS) and the empty path are not paths to a resource.
        return path == "*" || path.is_empty();
    };
    let mut segments = rest.split('/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        if segment == "." || segment == ".." || (segment.is_empty() && !last) {
            return false;
        }
    }
    true
}

/// One client connection's request handling.
struct Handler {
    shared: Arc<Shared>,
    connection: Connection,
    policies: watch::Receiver<Arc<PortPolicy>>,
    upstream: Upstream,
    http2: bool,
    series: ConnectionSeries,
    /// What a tunnel made of this connection holds while it runs.
    held: HeldOpen,
}

impl Handler {
    async fn handle(&self, request: Request<Incoming>) -> Response<ResponseBody> {
        let started = Instant::now();
        let metrics = &self.shared.metrics;
        // The policy as of this request: changes apply to the next request.
        let policy = self.policies.borrow().clone();
        let mut request = request;
        // A proxy sent this HTTP/1 request as an HTTP/2 stream: it is
        // authorized and forwarded as the HTTP/1 request it was.
        let orig = if self.http2 {
            match downgrade(&mut request) {
                Ok(orig) => orig,
                Err(error) => {
                    debug!(client = %self.connection.client.addr, %error, "refusing a request");
                    return unrecorded(answer_response(
                        StatusCode::BAD_REQUEST,
                        "invalid l5d-orig-proto header\n",
                    ));
                }
            }
        } else {
            None
        };
        let http2 = self.http2 && orig.is_none();
        let (mut parts, body) = request.into_parts();
        // Before routes match and the app sees the request: only the
        // verified identity is the client's (the peer's, or the one a
        // trusted gateway verified), and only a path that means what it
        // says is matched against routes.
        let client = match request_client(
            &self.connection.client.tls,
            &self.shared.config.trusted_gateways,
            &parts.headers,
        ) {
            Ok(client) => client,
            Err(problem) => {
                debug!(client = %self.connection.client.addr, problem, "refusing a gateway's request");
                return unrecorded(answer_response(
                    StatusCode::BAD_REQUEST,
                    "a gateway's request must name one client identity in l5d-client-id\n",
                ));
            }
        };
        set_client_id(&mut parts.headers, &client);
        if !consistent_authority(&parts.uri, &parts.headers) {
            debug!(client = %self.connection.client.addr, "refusing a request whose Host differs from its authority");
            return unrecorded(answer_response(
                StatusCode::BAD_REQUEST,
                "the Host header and the request's authority name different hosts\n",
            ));
        }
        if !canonical_path(parts.uri.path()) {
            debug!(client = %self.connection.client.addr, path = parts.uri.path(), "refusing a non-canonical path");
            return unrecorded(answer_response(
                StatusCode::BAD_REQUEST,
                "non-canonical request path: dot segments, empty segments and encoded dots or slashes are refused\n",
            ));
        }
        let authority = authority(&parts.uri, &parts.headers);
        let grpc = is_grpc(&parts.headers);
        let matched = policy.route_for(&RequestParts {
            method: &parts.method,
            path: parts.uri.path(),
            query: parts.uri.query(),
            host: Some(host(&authority)).filter(|h| !h.is_empty()),
            headers: &parts.headers,
        });
        let Some(route) = matched else {
            return self.no_route(&policy, &client, &authority, started);
        };

        let series = self.series.route(
            metrics,
            &self.connection,
            &client,
            &authority,
            &policy.server,
            &route.reference,
        );
        let authz_request = self.authz_request(client, &policy, route, &parts, &authority, http2);
        // The headers are lent to the plugin, which reads those it asks
        // for, and come back for the forwarded request.
        let (verdict, headers) = self.shared.authz.authorize_with_headers(
            authz_request,
            std::mem::take(&mut parts.headers),
            &route.authorizations,
        );
        parts.headers = headers;
        // As Linkerd's proxy: a refused request is counted only as a
        // denial, never as a request or response of the route, so `viz stat`
        // shows the traffic the application served and `viz authz` shows the
        // refusals beside it.
        let version: Arc<str> = Arc::from(verdict.version.label.as_str());
        let recorder = match verdict.decision {
            Decision::Allow(authz) => {
                series.allowed(metrics, &authz, &version);
                series.requests().request();
                ResponseRecorder::new(series.requests(), started)
            }
            Decision::Deny(reason) => {
                series.denied(metrics, &version);
                debug!(
                    client = %self.connection.client.addr,
                    server = %policy.server,
                    route = %route.reference,
                    %reason,
                    "request refused"
                );
                return if grpc {
                    grpc_denied()
                } else {
                    unrecorded(answer_response(
                        StatusCode::FORBIDDEN,
                        "unauthorized request on route\n",
                    ))
                };
            }
        };

        self.forward(Request::from_parts(parts, body), orig, recorder, grpc)
            .await
    }

    /// Answers a request no route matches with 404, counted as a request
    /// and response of the server under no route, as Linkerd's proxy does.
    fn no_route(
        &self,
        policy: &PortPolicy,
        client: &ClientTls,
        authority: &str,
        started: Instant,
    ) -> Response<ResponseBody> {
        let series = self.series.route(
            &self.shared.metrics,
            &self.connection,
            client,
            authority,
            &policy.server,
            &ResourceRef::default(),
        );
        series.requests().request();
        let recorder = ResponseRecorder::new(series.requests(), started);
        answer(
            recorder,
            StatusCode::NOT_FOUND,
            "no route matches the request\n",
        )
    }

    /// What the authz plugin decides on: who is asking (the request's
    /// client and the connection's address), which server, port and
    /// route, and the request's method, path and authority; its headers
    /// are lent beside it, as they arrived. An undeclared protocol is the
    /// one the request came in.
    fn authz_request(
        &self,
        client: ClientTls,
        policy: &PortPolicy,
        route: &Route,
        parts: &http::request::Parts,
        authority: &str,
        http2: bool,
    ) -> AuthzRequest {
        AuthzRequest {
            client_tls: client,
            client_ip: self.connection.client.addr.ip(),
            server: policy.server.clone(),
            port: self.connection.target.port(),
            protocol: match policy.protocol {
                Protocol::Unknown if http2 => Protocol::Http2,
                Protocol::Unknown => Protocol::Http1,
                declared => declared,
            },
            route: Some(route.reference.clone()),
            http: Some(HttpRequest {
                method: parts.method.as_str().to_string(),
                path: parts.uri.path().to_string(),
                authority: authority.to_string(),
                headers: Vec::new(),
            }),
        }
    }

    /// Forwards an admitted request to the application, in the HTTP version
    /// the client used (re-upgraded when a proxy downgraded it), and
    /// records the response as the route's; an unreachable application is
    /// answered with 502. An upgrade goes on a connection of its own, and
    /// becomes a tunnel if the application switches protocols.
    async fn forward(
        &self,
        mut forwarded: Request<Incoming>,
        orig: Option<OrigProto>,
        recorder: ResponseRecorder,
        grpc: bool,
    ) -> Response<ResponseBody> {
        // Only an HTTP/1 connection can be taken over; in an HTTP/2 stream
        // (a downgraded one included) an `Upgrade` is a plain header.
        let upgrading = !self.http2 && wants_upgrade(&forwarded);
        if upgrading {
            forwarded.extensions_mut().insert(self.held.clone());
        }
        if let Forward::Local(handler) = &self.shared.config.forward {
            // The handler (a gateway's outbound side) strips the request
            // and takes its upgrade, if any, as it forwards it.
            if let Some(orig) = orig {
                upgrade(&mut forwarded, orig.absolute_form);
            }
            let (parts, body) = handler(forwarded).await.into_parts();
            let body = body.map_err(BoxError::from).boxed_unsync();
            let body = recorder.record(parts.status, &parts.headers, grpc, body);
            return Response::from_parts(parts, body);
        }
        let pending = upgrading
            .then(|| PendingUpgrade::take(&mut forwarded))
            .flatten();
        if pending.is_none() {
            strip_hop_by_hop(forwarded.headers_mut());
        }
        let sent = match (orig, pending.is_some()) {
            (Some(orig), _) => self.upstream.send_downgraded(forwarded, orig).await,
            (None, true) => self.upstream.send_upgrade(forwarded).await,
            (None, false) => self.upstream.send(forwarded).await,
        };
        match sent {
            Ok(mut response) => {
                match pending {
                    Some(pending) => {
                        pending.answered(&mut response);
                    }
                    None => strip_hop_by_hop(response.headers_mut()),
                }
                let (parts, body) = response.into_parts();
                let body = body.map_err(BoxError::from).boxed_unsync();
                let body = recorder.record(parts.status, &parts.headers, grpc, body);
                Response::from_parts(parts, body)
            }
            Err(e) => {
                debug!(app = ?self.connection.app, error = %e, "the application is unreachable");
                answer(
                    recorder,
                    StatusCode::BAD_GATEWAY,
                    "the application is unreachable\n",
                )
            }
        }
    }
}

/// A short plain-text response of the proxy's own.
fn answer_response(status: StatusCode, text: &'static str) -> Response<ResponseBody> {
    let mut response = Response::new(full(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// [`answer_response`], counted as a response of the route.
fn answer(
    recorder: ResponseRecorder,
    status: StatusCode,
    text: &'static str,
) -> Response<ResponseBody> {
    let (parts, body) = answer_response(status, text).into_parts();
    let body = recorder.record(parts.status, &parts.headers, false, body);
    Response::from_parts(parts, body)
}

/// A response that no metric counts (refusals: see the deny branch).
fn unrecorded(response: Response<ResponseBody>) -> Response<ResponseBody> {
    response
}

/// gRPC's refusal: HTTP 200, trailers-only, `grpc-status: 7`.
fn grpc_denied() -> Response<ResponseBody> {
    let mut response = Response::new(full(""));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(
        HeaderName::from_static("grpc-status"),
        HeaderValue::from_static(GRPC_PERMISSION_DENIED),
    );
    headers.insert(
        HeaderName::from_static("grpc-message"),
        HeaderValue::from_static("unauthorized request on route"),
    );
    response
}

fn full(text: &'static str) -> ResponseBody {
    Full::new(Bytes::from_static(text.as_bytes()))
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Whether a request names one host: an authority in its URI (HTTP/2's
/// `:authority`, an absolute-form HTTP/1 target, or one restored by a
/// downgrade) and a `Host` header, when both are present, must agree, or
/// routes would match one name while the application serves the other.
/// There may be one `Host` header at most.
fn consistent_authority(uri: &http::Uri, headers: &HeaderMap) -> bool {
    let mut hosts = headers.get_all(HOST).iter();
    let (first, second) = (hosts.next(), hosts.next());
    if second.is_some() {
        return false;
    }
    match (uri.authority(), first) {
        // The usual case, byte for byte the same name.
        (Some(authority), Some(named)) if named.as_bytes() == authority.as_str().as_bytes() => true,
        (Some(authority), Some(named)) => named.to_str().is_ok_and(|named| {
            let same_port = match (port(named), port(authority.as_str())) {
                (Some(a), Some(b)) => a == b,
                // A port left out is the scheme's default, which the
                // proxy may have written in.
                _ => true,
            };
            host(named).eq_ignore_ascii_case(host(authority.as_str())) && same_port
        }),
        _ => true,
    }
}

/// The port an authority names, if any (after an IPv6 host's brackets).
fn port(authority: &str) -> Option<&str> {
    let after = authority
        .rsplit_once(']')
        .map_or(authority, |(_, rest)| rest);
    after.rsplit_once(':').map(|(_, port)| port)
}

/// The request's authority: the URI's (HTTP/2, absolute-form HTTP/1) or
/// the `Host` header.
fn authority(uri: &http::Uri, headers: &HeaderMap) -> String {
    uri.authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| {
            headers
                .get(HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// The host part of an authority (without the port; IPv6 in brackets kept).
fn host(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => authority,
    }
}

#[cfg(test)]
mod tests;
