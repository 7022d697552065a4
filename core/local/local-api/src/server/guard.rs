//! What a request must show before the API reads its body or routes it.
//!
//! The API listens on loopback, which keeps other machines out but lets in
//! everything on this one, web pages in the user's browser included. Three
//! checks close that, each against one attack:
//!
//! 1. `Host` must be this API's own loopback address (`127.0.0.1:PORT`,
//!    `localhost:PORT` or `[::1]:PORT`), else 421: a web page that points
//!    its own name at 127.0.0.1 (DNS rebinding) sends its own name here.
//! 2. `Authorization: Bearer <token>` must carry this run's token, else
//!    401: another user of the machine, or a page that guessed the port,
//!    does not have it.
//! 3. A request with a body, or one that changes state, must declare a
//!    type the API speaks (`application/json`, or YAML for apply), else
//!    415: a browser sends `text/plain`, form and multipart posts across
//!    sites without asking the server first, and those are refused.
//!
//! The checks read headers only, so a refused request never has its body
//! read.

use http::request::Parts;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use super::ApiError;
use crate::token::ApiToken;

/// What the body of an admitted request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json`.
    Json,
    /// `application/yaml`, `application/x-yaml` or `text/yaml`.
    Yaml,
}

/// The types a body may declare, as the refusals list them.
const ACCEPTED: &str = "application/json or application/yaml";

/// The checks of one server: its token and the port it is bound on.
pub(crate) struct Guard {
    token: ApiToken,
    port: u16,
}

impl Guard {
    pub(crate) fn new(token: ApiToken, port: u16) -> Self {
        Guard { token, port }
    }

    /// Admits a request, or says why not (421, 401 or 415, in that order:
    /// the first check that fails is the one reported). Returns what the
    /// body is when the request carries one.
    pub(crate) fn admit(&self, parts: &Parts) -> Result<Option<Media>, ApiError> {
        self.check_host(parts)?;
        self.check_token(&parts.headers)?;
        body_media(parts)
    }

    fn check_host(&self, parts: &Parts) -> Result<(), ApiError> {
        let port = self.port;
        let misdirected = |why: String| {
            ApiError::new(
                StatusCode::MISDIRECTED_REQUEST,
                format!(
                    "{why}: this API answers only to Host 127.0.0.1:{port}, localhost:{port} or [::1]:{port} (a web page that points its own name at 127.0.0.1 sends its own name)"
                ),
            )
        };
        let host = match single(&parts.headers, header::HOST) {
            Single::None => return Err(misdirected("the request has no Host header".into())),
            Single::Several => {
                return Err(misdirected("the request has several Host headers".into()));
            }
            Single::One(value) => value,
        };
        let host = host
            .to_str()
            .map_err(|_| misdirected("the Host header is not text".into()))?;
        if !self.is_own(host) {
            return Err(misdirected(format!("Host {host:?} is not this API")));
        }
        // A request line in absolute form names a host of its own.
        if let Some(authority) = parts.uri.authority()
            && !self.is_own(authority.as_str())
        {
            return Err(misdirected(format!(
                "the request names host {:?}",
                authority.as_str()
            )));
        }
        Ok(())
    }

    /// Whether `host` (`name[:port]`) is a loopback name of this server.
    fn is_own(&self, host: &str) -> bool {
        let (name, port) = match host.strip_prefix('[') {
            Some(rest) => match rest.split_once(']') {
                Some((inside, after)) => (&host[..inside.len() + 2], after),
                None => return false,
            },
            None => match host.rfind(':') {
                Some(colon) => (&host[..colon], &host[colon..]),
                None => (host, ""),
            },
        };
        let port_matches = match port.strip_prefix(':') {
            Some(digits) => {
                !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit())
                    && digits.parse::<u16>() == Ok(self.port)
            }
            // Without a port, HTTP's default one.
            None => port.is_empty() && self.port == 80,
        };
        port_matches
            && ["127.0.0.1", "localhost", "[::1]"]
                .iter()
                .any(|own| name.eq_ignore_ascii_case(own))
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let unauthorized = |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, why);
        let value = match single(headers, header::AUTHORIZATION) {
            Single::None => {
                return Err(unauthorized(
                    "no API token: send `Authorization: Bearer <token>` with the token this `strait local up` wrote to the file its contexts name in STRAIT_HOME (the `strait` command does)",
                ));
            }
            Single::Several => {
                return Err(unauthorized(
                    "several Authorization headers: send one, `Bearer <token>`",
                ));
            }
            Single::One(value) => value.as_bytes(),
        };
        let presented = match value.iter().position(|&b| b == b' ') {
            Some(space) if value[..space].eq_ignore_ascii_case(b"bearer") => {
                value[space..].trim_ascii()
            }
            _ => {
                return Err(unauthorized(
                    "the Authorization header is not `Bearer <token>`: this API takes its run's token only",
                ));
            }
        };
        if !self.token.verify(presented) {
            return Err(unauthorized(
                "wrong API token: it is not the one this run of `strait local up` wrote (a token of an earlier run no longer counts)",
            ));
        }
        Ok(())
    }
}

/// The type of a request's body, when it carries one or changes state: it
/// must be one the API speaks.
fn body_media(parts: &Parts) -> Result<Option<Media>, ApiError> {
    let reads_only = matches!(parts.method, Method::GET | Method::HEAD);
    let has_body = parts.headers.contains_key(header::TRANSFER_ENCODING)
        || parts
            .headers
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0");
    if reads_only && !has_body {
        return Ok(None);
    }
    let unsupported = |why: String| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{why}: send {ACCEPTED} (browsers post text/plain, forms and multipart across sites unasked, so the API takes none of them)"
            ),
        )
    };
    let value = match single(&parts.headers, header::CONTENT_TYPE) {
        Single::None => return Err(unsupported("the request has no Content-Type".into())),
        Single::Several => {
            return Err(unsupported(
                "the request has several Content-Type headers".into(),
            ));
        }
        Single::One(value) => value,
    };
    let text = value
        .to_str()
        .map_err(|_| unsupported("the Content-Type is not text".into()))?;
    let essence = text.split(';').next().unwrap_or("").trim();
    let lower = essence.to_ascii_lowercase();
    match lower.as_str() {
        "application/json" => Ok(Some(Media::Json)),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(Some(Media::Yaml)),
        _ => Err(unsupported(format!("Content-Type {essence:?} is refused"))),
    }
}

/// Refuses a body that is not JSON, for the endpoints that take JSON only.
pub(crate) fn json_only(endpoint: &str, media: Option<Media>) -> Result<(), ApiError> {
    if media == Some(Media::Json) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        format!("{endpoint} takes application/json only"),
    ))
}

enum Single<'a> {
    None,
    One(&'a HeaderValue),
    Several,
}

/// A header that must appear at most once: two `Host`s, two tokens or two
/// types could each be read differently by different parsers.
fn single(headers: &HeaderMap, name: header::HeaderName) -> Single<'_> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.next()) {
        (None, _) => Single::None,
        (Some(value), None) => Single::One(value),
        (Some(_), Some(_)) => Single::Several,
    }
}

#[cfg(test)]
mod tests;
