//! Routing an authenticated request: discovery, OpenAPI, the version and
//! health endpoints, and the resource paths (`/api/v1/namespaces/NS/services/NAME`,
//! `/apis/GROUP/VERSION/...`), each answered in the API server's shapes,
//! failures as `Status` objects.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::resources::{self, Resource};
use crate::server::{ApiConfig, Body};
use crate::status::ApiError;
use crate::{discovery, objects, openapi_routes};

/// Largest request body accepted: manifests (a plugin ConfigMap holds a
/// Wasm component of up to a few MiB, base64-encoded), not bulk data.
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// What every request handler shares.
pub struct State {
    /// The server's configuration.
    pub config: ApiConfig,
    /// Where it listens, as discovery tells clients.
    pub addr: SocketAddr,
}

impl State {
    /// The state of a server bound at `addr`.
    pub fn new(config: ApiConfig, addr: SocketAddr) -> Self {
        State { config, addr }
    }

    /// The resources served now (the CRDs in the store may have changed).
    pub fn resources(&self) -> Vec<Resource> {
        resources::all(&self.config.store.definitions())
    }
}

/// A resource path, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePath {
    /// The group; empty for `/api/v1`.
    pub group: String,
    /// The version.
    pub version: String,
    /// The namespace in the path, if any.
    pub namespace: Option<String>,
    /// The resource's plural.
    pub plural: String,
    /// The object's name, if the path names one.
    pub name: Option<String>,
    /// The subresource (`status`, `scale`, `log`), if any.
    pub subresource: Option<String>,
}

/// The query of a request, decoded.
pub type Query = HashMap<String, String>;

/// Answers one authenticated request.
pub async fn handle(state: &State, request: Request<Incoming>) -> Response<Body> {
    let path = request.uri().path().to_string();
    let query: Query = request
        .uri()
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let get = request.method() == Method::GET;
    let result = match segments.as_slice() {
        ["version"] if get => Ok(json_response(StatusCode::OK, &version())),
        ["healthz" | "livez" | "readyz"] if get => Ok(text_response(StatusCode::OK, "ok")),
        ["api" | "apis"] if get && discovery::wants_aggregated(request.headers()) => {
            Ok(discovery::aggregated(state, segments[0] == "api"))
        }
        ["api"] if get => Ok(json_response(
            StatusCode::OK,
            &discovery::api_versions(state),
        )),
        ["apis"] if get => Ok(json_response(StatusCode::OK, &discovery::group_list(state))),
        ["openapi", "v3", rest @ ..] if get => openapi_routes::v3(state, rest),
        ["openapi", "v2"] if get => Err(ApiError::no_route(&path)),
        ["strait", "v1", "scrapes"] if get => host(state, &path).and_then(|h| {
            let secs = query
                .get("window_secs")
                .map_or(Ok(60), |w| w.parse::<u64>())
                .map_err(|_| ApiError::bad_request("window_secs: must be a number of seconds"))?;
            if secs == 0 || secs > MAX_WINDOW_SECS {
                return Err(ApiError::bad_request(format!(
                    "window_secs: must be between 1 and {MAX_WINDOW_SECS}"
                )));
            }
            Ok(json_response(
                StatusCode::OK,
                &h.scrapes(Duration::from_secs(secs)),
            ))
        }),
        ["strait", "v1", "info"] if get => {
            host(state, &path).map(|h| json_response(StatusCode::OK, &h.info()))
        }
        ["api", "v1"] if get => discovery::resource_list(state, "", "v1"),
        ["apis", group] if get => discovery::group(state, group),
        ["apis", group, version] if get => discovery::resource_list(state, group, version),
        ["api", "v1", rest @ ..] => match resource_path("", "v1", rest) {
            Some(target) => objects::handle(state, request, target, query).await,
            None => Err(ApiError::no_route(&path)),
        },
        ["apis", group, version, rest @ ..] => match resource_path(group, version, rest) {
            Some(target) => objects::handle(state, request, target, query).await,
            None => Err(ApiError::no_route(&path)),
        },
        _ => Err(ApiError::no_route(&path)),
    };
    result.unwrap_or_else(|e| error(&e))
}

/// The host's endpoints exist only where a host runs the cluster.
fn host<'a>(state: &'a State, path: &str) -> Result<&'a dyn crate::pods::ClusterHost, ApiError> {
    state
        .config
        .host
        .as_deref()
        .ok_or_else(|| ApiError::no_route(path))
}

/// The longest window `/strait/v1/scrapes` serves (a day).
const MAX_WINDOW_SECS: u64 = 86_400;

/// The parts of a resource path after its group version, as the API
/// server reads them: `namespaces/NS/PLURAL[/NAME[/SUB]]`, or
/// `PLURAL[/NAME[/SUB]]`; `namespaces[/NAME[/SUB]]` is the Namespace
/// resource itself.
pub fn resource_path(group: &str, version: &str, rest: &[&str]) -> Option<ResourcePath> {
    let owned = |s: &&str| s.to_string();
    let build = |namespace: Option<String>, tail: &[&str]| -> Option<ResourcePath> {
        let (plural, name, subresource) = match tail {
            [plural] => (plural, None, None),
            [plural, name] => (plural, Some(name), None),
            [plural, name, sub] => (plural, Some(name), Some(sub)),
            _ => return None,
        };
        Some(ResourcePath {
            group: group.to_string(),
            version: version.to_string(),
            namespace,
            plural: plural.to_string(),
            name: name.map(owned),
            subresource: subresource.map(owned),
        })
    };
    match rest {
        ["namespaces", ns, sub @ ("status" | "finalize")] if group.is_empty() => {
            build(None, &["namespaces", ns, sub])
        }
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => build(Some(ns.to_string()), tail),
        tail => build(None, tail),
    }
}

/// `/version`: a Kubernetes version kubectl does not warn about.
fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.0+strait",
        "gitCommit": "",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "",
        "compiler": "strait",
        "platform": std::env::consts::ARCH,
    })
}

/// The request's body, at most [`MAX_BODY`] bytes.
pub async fn read_body(body: Incoming) -> Result<Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestEntityTooLarge",
            format!("the request body could not be read (at most {MAX_BODY} bytes): {error}"),
        )),
    }
}

/// A JSON answer.
pub fn json_response(code: StatusCode, value: &Value) -> Response<Body> {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)).boxed_unsync());
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}

/// A plain-text answer.
pub fn text_response(code: StatusCode, text: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())).boxed_unsync());
    *response.status_mut() = code;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    response
}

/// A failure as a `Status` object.
pub fn error(error: &ApiError) -> Response<Body> {
    json_response(error.code, &error.to_status())
}

#[cfg(test)]
mod tests;
