//! HTTP rules both sides of the proxy follow.
//!
//! Between two proxies, HTTP/1 requests travel as HTTP/2 streams over one
//! multiplexed mTLS connection, as Linkerd's proxies do: the outbound side
//! of the client's proxy [`upgrade`]s a request when discovery says the
//! endpoint runs a proxy (protocol hint `h2`), naming the original version
//! in `l5d-orig-proto`, and the inbound side of the server's proxy (or a
//! gateway) [`downgrade`]s it back before the application sees it. One
//! connection between two pods then carries every concurrent request, so
//! the proxies pay for one write per batch of requests instead of one per
//! request, and no connection is opened per client connection.
//!
//! Requests that take their connection over (WebSocket and other HTTP/1.1
//! upgrades, `CONNECT`) are never sent that way: [`http_upgrade`] carries
//! them over connections of their own and joins the two connections of
//! each proxy once the server agrees.
//!
//! [`pool`] holds the client connections of both sides: to the application
//! inbound, to each endpoint outbound.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Version};

pub mod http_upgrade;
pub mod pool;

/// The header naming an upgraded request's original HTTP version, as
/// Linkerd's proxies send it.
pub const L5D_ORIG_PROTO: HeaderName = HeaderName::from_static("l5d-orig-proto");

/// The suffix marking a request whose HTTP/1 target was in absolute form
/// (`GET http://host/path`), so it is sent on in that form.
const ABSOLUTE_FORM: &str = "; absolute-form";

/// How an upgraded request was sent originally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OrigProto {
    /// HTTP/1.1 or HTTP/1.0.
    pub version: Version,
    /// Whether its target was in absolute form.
    pub absolute_form: bool,
}

/// Why an `l5d-orig-proto` header cannot be honoured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadOrigProto(String);

impl std::fmt::Display for BadOrigProto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "invalid {L5D_ORIG_PROTO} header {:?}: expected HTTP/1.1 or HTTP/1.0, optionally followed by \"{ABSOLUTE_FORM}\"",
            self.0
        )
    }
}

impl std::error::Error for BadOrigProto {}

/// Whether a request of `version` and `method` may travel as HTTP/2 to a
/// proxy: HTTP/1 requests other than `CONNECT` (which takes over the
/// connection). Requests with an HTTP/1.1 `Upgrade` take theirs over too:
/// callers check [`http_upgrade::wants_upgrade`] first.
pub fn can_upgrade(version: Version, method: &Method) -> bool {
    matches!(version, Version::HTTP_11 | Version::HTTP_10) && method != Method::CONNECT
}

/// Marks `request` (HTTP/1, see [`can_upgrade`]) as upgraded and makes it
/// HTTP/2. `absolute_form` says whether the client sent its target in
/// absolute form. The request's URI must carry the scheme and authority
/// HTTP/2 needs; its `Host` header, if any, travels as a header.
pub fn upgrade<B>(request: &mut Request<B>, absolute_form: bool) {
    let original = request.version();
    let value = match (original, absolute_form) {
        (Version::HTTP_10, false) => "HTTP/1.0",
        (Version::HTTP_10, true) => "HTTP/1.0; absolute-form",
        (_, false) => "HTTP/1.1",
        (_, true) => "HTTP/1.1; absolute-form",
    };
    request
        .headers_mut()
        .insert(L5D_ORIG_PROTO, HeaderValue::from_static(value));
    *request.version_mut() = Version::HTTP_2;
}

/// Undoes [`upgrade`] on a received request: removes `l5d-orig-proto`,
/// restores the original version and makes sure a `Host` header names the
/// authority (HTTP/1 requires one). Returns how the request was sent
/// originally, or `None` if it was not upgraded.
pub fn downgrade<B>(request: &mut Request<B>) -> Result<Option<OrigProto>, BadOrigProto> {
    let Some(value) = request.headers_mut().remove(L5D_ORIG_PROTO) else {
        return Ok(None);
    };
    let orig = parse(&value)?;
    *request.version_mut() = orig.version;
    if !request.headers().contains_key(header::HOST)
        && let Some(authority) = request.uri().authority()
        && let Ok(host) = HeaderValue::from_str(authority.as_str())
    {
        request.headers_mut().insert(header::HOST, host);
    }
    Ok(Some(orig))
}

fn parse(value: &HeaderValue) -> Result<OrigProto, BadOrigProto> {
    let bad = || BadOrigProto(String::from_utf8_lossy(value.as_bytes()).into_owned());
    let text = value.to_str().map_err(|_| bad())?.trim();
    let (version, absolute_form) = match text.strip_suffix(ABSOLUTE_FORM) {
        Some(version) => (version.trim(), true),
        None => (text, false),
    };
    let version = match version {
        "HTTP/1.1" => Version::HTTP_11,
        "HTTP/1.0" => Version::HTTP_10,
        _ => return Err(bad()),
    };
    Ok(OrigProto {
        version,
        absolute_form,
    })
}

/// Headers about one hop, which a proxy must not pass on (RFC 9110
/// §7.6.1), including those the `Connection` header lists; `te: trailers`
/// is kept (gRPC needs it), and so is nothing else of `te`.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most messages carry none of them: one pass over the few names present
    // finds that out for less than a hashed removal of each would cost.
    if !headers.keys().any(is_hop_by_hop) {
        return;
    }
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in [
        header::CONNECTION,
        KEEP_ALIVE,
        PROXY_CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
    ] {
        headers.remove(name);
    }
    let te_trailers = headers.get(header::TE).is_some_and(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("trailers"))
        })
    });
    if headers.remove(header::TE).is_some() && te_trailers {
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
    }
}

const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");

/// Whether [`strip_hop_by_hop`] has anything to do for a header `name`:
/// one of the hop-by-hop names, or `Connection` (which may list others),
/// or `TE`.
fn is_hop_by_hop(name: &HeaderName) -> bool {
    static NAMES: [HeaderName; 6] = [
        header::CONNECTION,
        KEEP_ALIVE,
        PROXY_CONNECTION,
        header::TRANSFER_ENCODING,
        header::UPGRADE,
        header::TE,
    ];
    NAMES.contains(name)
}

#[cfg(test)]
mod tests;
