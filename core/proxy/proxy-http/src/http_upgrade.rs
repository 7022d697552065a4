//! HTTP/1.1 upgrades (WebSocket, or any other `Upgrade` protocol) and
//! `CONNECT` through the proxy: both ask to turn the connection they are
//! made on into a tunnel once the server agrees.
//!
//! An upgrade takes its connection over, so it cannot be one stream of
//! the multiplexed HTTP/2 connection between two proxies: the
//! `l5d-orig-proto` upgrade ([`crate::upgrade`]) is never applied to it.
//! As linkerd2-proxy does, the client's proxy sends it as HTTP/1.1 over a
//! connection of its own to the server's proxy (mTLS like any other), and
//! that proxy sends it on to the application over a connection of its own
//! too ([`send`]). Each proxy authorizes, routes and counts the request as
//! any other; when the answer switches protocols ([`switches_protocols`]:
//! `101`, or `2xx` to `CONNECT`), each joins the connection it received
//! the request on to the one it sent it on, both taken from hyper with
//! [`hyper::upgrade::on`], and copies bytes between them until both ends
//! are done ([`Tunnel`]).
//!
//! HTTP/2's extended CONNECT (RFC 8441) would carry the tunnel as a stream
//! of the proxies' shared connection instead. It is not used: a tunnel is
//! long-lived and its traffic is the application's own, so on a
//! connection of its own it neither competes with every other request
//! between the two pods for one connection's flow-control window nor
//! fails with it; and it is what linkerd2-proxy sends and expects, so a
//! strait proxy and a Linkerd proxy carry each other's upgrades.

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Request, Response, StatusCode, Version};
use hyper::body::{Body, Incoming};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::strip_hop_by_hop;

/// Whether `request` asks to take its connection over: an HTTP/1.1
/// `CONNECT`, or an HTTP/1.1 request with an `Upgrade` header that its
/// `Connection` header names, as RFC 9110 §7.8 requires. HTTP/1.0 has no
/// upgrades; an upgrade to `h2c` is not one either (as in linkerd2-proxy:
/// the proxy would see nothing of the HTTP/2 connection that follows), and
/// such a request goes on as a plain request without its `Upgrade`.
pub fn wants_upgrade<B>(request: &Request<B>) -> bool {
    if request.version() != Version::HTTP_11 {
        return false;
    }
    if request.method() == Method::CONNECT {
        return true;
    }
    let headers = request.headers();
    let protocols = tokens(headers, &header::UPGRADE);
    !protocols.is_empty()
        && !protocols.iter().any(|p| p.eq_ignore_ascii_case("h2c"))
        && tokens(headers, &header::CONNECTION)
            .iter()
            .any(|option| option.eq_ignore_ascii_case("upgrade"))
}

/// The comma-separated tokens of every `name` header (without any
/// `/version` suffix, which `Upgrade` protocols may carry).
fn tokens<'a>(headers: &'a HeaderMap, name: &header::HeaderName) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|token| token.split('/').next().unwrap_or_default().trim())
        .filter(|token| !token.is_empty())
        .collect()
}

/// Whether the answer to a request that [`wants_upgrade`] turns its
/// connection into a tunnel: `101 Switching Protocols`, or a `2xx` to
/// `CONNECT`. Any other answer is a plain response, and the connection
/// stays HTTP.
pub fn switches_protocols(connect: bool, status: StatusCode) -> bool {
    status == StatusCode::SWITCHING_PROTOCOLS || (connect && status.is_success())
}

/// [`strip_hop_by_hop`] for a request that [`wants_upgrade`] and for the
/// answer that [`switches_protocols`]: every hop-by-hop header goes,
/// those its `Connection` header names included, and then only
/// `Connection: upgrade` and the `Upgrade` protocols as sent are put back,
/// the two the next hop needs to upgrade. A client cannot keep any other
/// header about its connection by naming it. The `2xx` answer to
/// `CONNECT` (`connect_answer`) carries no `Content-Length` or
/// `Transfer-Encoding` (RFC 9110 §9.3.6): what follows it is the tunnel.
pub fn strip_hop_by_hop_for_upgrade(headers: &mut HeaderMap, connect_answer: bool) {
    let protocols: Vec<HeaderValue> = headers.get_all(header::UPGRADE).iter().cloned().collect();
    strip_hop_by_hop(headers);
    if connect_answer {
        headers.remove(header::CONTENT_LENGTH);
    }
    if protocols.is_empty() {
        return;
    }
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    for protocol in protocols {
        headers.append(header::UPGRADE, protocol);
    }
}

/// The side of an upgrade a request brings: the connection it came in on,
/// as hyper will hand it over, taken from the request before it is sent
/// on, and joined to the answer's connection if the answer switches
/// protocols.
#[derive(Debug)]
pub struct PendingUpgrade {
    downstream: OnUpgrade,
    connect: bool,
    held: Option<HeldOpen>,
}

impl PendingUpgrade {
    /// Takes the request's side of its upgrade when it [`wants_upgrade`]
    /// and came in on an HTTP/1 connection hyper serves with upgrades (so
    /// that the connection can be handed over), with whatever
    /// [`HeldOpen`] its server put in its extensions; its hop-by-hop
    /// headers are then stripped for the upgrade. Otherwise `None`, and
    /// the request is a plain one for the caller to strip as any.
    pub fn take<B>(request: &mut Request<B>) -> Option<PendingUpgrade> {
        if !wants_upgrade(request) {
            return None;
        }
        let downstream = request.extensions_mut().remove::<OnUpgrade>()?;
        let held = request.extensions_mut().remove::<HeldOpen>();
        strip_hop_by_hop_for_upgrade(request.headers_mut(), false);
        Some(PendingUpgrade {
            downstream,
            connect: request.method() == Method::CONNECT,
            held,
        })
    }

    /// Whether the request is a `CONNECT`.
    pub fn is_connect(&self) -> bool {
        self.connect
    }

    /// Handles the answer to the request, which came over a connection
    /// that hyper serves with upgrades (see [`send`]). When it
    /// [`switches_protocols`], its headers keep what the client needs to
    /// upgrade and the [`Tunnel`] between the two connections starts on a
    /// task of its own, to run once hyper has passed the answer on;
    /// otherwise its hop-by-hop headers are stripped as any answer's and
    /// the client's connection stays HTTP. Returns whether a tunnel
    /// started.
    pub fn answered<B>(self, response: &mut Response<B>) -> bool {
        if !switches_protocols(self.connect, response.status()) {
            strip_hop_by_hop(response.headers_mut());
            return false;
        }
        strip_hop_by_hop_for_upgrade(response.headers_mut(), self.connect);
        let upstream = hyper::upgrade::on(&mut *response);
        Tunnel::new(self.downstream, upstream, self.held).spawn();
        true
    }
}

/// Sends `request`, which [`wants_upgrade`], over `io`, a connection
/// opened for it alone, and waits for the answer's head. The request is
/// written as it is (its target in the form its URI has: authority form
/// for `CONNECT`). When the answer [`switches_protocols`],
/// [`hyper::upgrade::on`] of it gives the connection back as the tunnel's
/// upstream half; otherwise the connection closes once the answer's body
/// has been read.
pub async fn send<I, B>(io: I, request: Request<B>) -> Result<Response<Incoming>, hyper::Error>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        if let Err(error) = connection.with_upgrades().await {
            tracing::debug!(%error, "an upgrade request's connection failed");
        }
    });
    sender.send_request(request).await
}

/// Something kept alive while the tunnel made from a request runs. The
/// side that accepted the request puts it in the request's extensions
/// (the inbound side: its connection's TCP series, so that the connection
/// counts as open until its tunnel closes, not only until its last HTTP
/// exchange); the side that makes the tunnel takes it out and holds it.
#[derive(Clone)]
pub struct HeldOpen {
    /// Never read: holding it is the point.
    _value: Arc<dyn Any + Send + Sync>,
}

impl HeldOpen {
    /// Holds `value` (one more reference to it) while a tunnel runs.
    pub fn new<T: Send + Sync + 'static>(value: Arc<T>) -> Self {
        HeldOpen { _value: value }
    }
}

impl fmt::Debug for HeldOpen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HeldOpen(..)")
    }
}

/// Why a tunnel ended other than by both of its ends closing.
#[derive(Debug, thiserror::Error)]
pub enum TunnelError {
    /// The connection the request came in on was not handed over: the
    /// client went away before the switching answer was written to it.
    #[error("the client's connection was not upgraded: {0}")]
    Downstream(#[source] hyper::Error),
    /// The connection the request was sent on was not handed over.
    #[error("the server's connection was not upgraded: {0}")]
    Upstream(#[source] hyper::Error),
    /// Copying between the two failed (a reset, a TLS error, ...).
    #[error("the tunnel failed: {0}")]
    Io(#[from] io::Error),
}

/// The two halves of one upgrade: the connection the request came in on
/// (downstream) and the one it was sent on (upstream), each handed over by
/// hyper once the switching answer has passed through it.
#[derive(Debug)]
pub struct Tunnel {
    downstream: OnUpgrade,
    upstream: OnUpgrade,
    held: Option<HeldOpen>,
}

impl Tunnel {
    /// The tunnel between the request's connection (`downstream`, from
    /// [`hyper::upgrade::on`] of the request) and the answer's
    /// (`upstream`, of the response), holding `held` while it runs.
    pub fn new(downstream: OnUpgrade, upstream: OnUpgrade, held: Option<HeldOpen>) -> Self {
        Tunnel {
            downstream,
            upstream,
            held,
        }
    }

    /// Copies bytes both ways until both ends are done: an end's close (a
    /// half-close included) is passed on to the other, so either peer
    /// closing closes the tunnel. Returns the bytes copied from downstream
    /// to upstream and back. Nothing is buffered beyond the copy's fixed
    /// buffers: a peer that does not read stops the other from sending.
    pub async fn run(self) -> Result<(u64, u64), TunnelError> {
        let Tunnel {
            downstream,
            upstream,
            held,
        } = self;
        let (downstream, upstream) = tokio::try_join!(
            async { downstream.await.map_err(TunnelError::Downstream) },
            async { upstream.await.map_err(TunnelError::Upstream) },
        )?;
        let (mut downstream, mut upstream) = (TokioIo::new(downstream), TokioIo::new(upstream));
        let copied = tokio::io::copy_bidirectional(&mut downstream, &mut upstream).await?;
        drop(held);
        Ok(copied)
    }

    /// Runs the tunnel on a task of its own, which lives as long as the
    /// two connections (or until hyper fails to hand one over).
    pub fn spawn(self) {
        tokio::spawn(async move {
            match self.run().await {
                Ok((up, down)) => tracing::debug!(up, down, "tunnel closed"),
                Err(error) => tracing::debug!(%error, "tunnel ended"),
            }
        });
    }
}

#[cfg(test)]
mod tests;
