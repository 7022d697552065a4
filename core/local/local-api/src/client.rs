//! The command line's side of the API: one method per endpoint, errors that
//! name the context and the endpoint. Every request carries the run's token
//! and, with a body, the body's type, as the server requires.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::backend::{ClusterInfo, PodScrapes};
use crate::registry::LocalContext;
use crate::server::percent_encode;
use crate::token::{ApiToken, TokenError};
use crate::wire::{
    AppliedObject, ApplyResponse, DeleteRequest, DeleteResponse, ErrorBody, LabelRequest,
    LabelResponse,
};

/// How long one request may take: the server answers from memory, so a
/// slow answer means a stuck process, which the user should hear about.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The type of a JSON body.
const JSON: &str = "application/json";
/// The type of an apply's body.
const YAML: &str = "application/yaml";

/// A client of one local context (one cluster of a running `local up`).
#[derive(Clone)]
pub struct LocalClient {
    context: String,
    api: String,
    base: Uri,
    token: ApiToken,
    client: Client<HttpConnector, Full<Bytes>>,
}

impl fmt::Debug for LocalClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalClient")
            .field("context", &self.context)
            .field("api", &self.api)
            .finish_non_exhaustive()
    }
}

/// A request failed: which context, which endpoint, and why.
#[derive(Debug)]
pub struct ClientError {
    /// The context, e.g. `east`.
    pub context: String,
    /// Its API, e.g. `http://127.0.0.1:40123`.
    pub api: String,
    /// The request, e.g. `POST /v1/clusters/east/apply`.
    pub endpoint: String,
    /// What went wrong (boxed: errors travel through every `Result`).
    pub kind: Box<ClientErrorKind>,
}

/// What went wrong with a request.
#[derive(Debug)]
pub enum ClientErrorKind {
    /// The context's `api` is not an `http://host:port` URL.
    InvalidAddress(String),
    /// The context's API token could not be read.
    Token(TokenError),
    /// Nothing answered: most often `strait local up` is not running.
    Connect(String),
    /// The connection failed or timed out after it was made.
    Transport(String),
    /// The server answered with an error.
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The server's message.
        message: String,
        /// For a failed apply, the objects applied before the failure.
        applied: Vec<AppliedObject>,
    },
    /// The answer was not what this client expects (a version mismatch).
    Decode(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "context {} ({}): ", self.context, self.api)?;
        match self.kind.as_ref() {
            ClientErrorKind::InvalidAddress(reason) => {
                write!(f, "not a usable API address: {reason}")
            }
            ClientErrorKind::Token(err) => write!(f, "cannot read its API token: {err}"),
            ClientErrorKind::Connect(reason) => {
                write!(f, "{reason} — is `strait local up` running?")
            }
            ClientErrorKind::Transport(reason) => write!(f, "{}: {reason}", self.endpoint),
            ClientErrorKind::Api { message, .. } => write!(f, "{message}"),
            ClientErrorKind::Decode(reason) => {
                write!(f, "{}: unexpected answer: {reason}", self.endpoint)
            }
        }
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    /// The server's status, when it answered with an error.
    pub fn status(&self) -> Option<StatusCode> {
        match self.kind.as_ref() {
            ClientErrorKind::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's message alone, when it answered with an error: what
    /// kubectl-like commands print after `Error from server`.
    pub fn api_message(&self) -> Option<&str> {
        match self.kind.as_ref() {
            ClientErrorKind::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The objects a failed apply applied before it failed.
    pub fn applied(&self) -> &[AppliedObject] {
        match self.kind.as_ref() {
            ClientErrorKind::Api { applied, .. } => applied,
            _ => &[],
        }
    }
}

impl LocalClient {
    /// A client of context `name` as the registry records it: its API
    /// address, and its run's token read from the entry's token file.
    pub fn for_context(name: &str, entry: &LocalContext) -> Result<Self, ClientError> {
        let token = entry.token(name).map_err(|err| ClientError {
            context: name.to_string(),
            api: entry.api.clone(),
            endpoint: String::new(),
            kind: Box::new(ClientErrorKind::Token(err)),
        })?;
        LocalClient::new(name, &entry.api, token)
    }

    /// A client of `context`, served at `api` (`http://127.0.0.1:PORT`, as
    /// the registry records it) by the run whose token is `token`. The
    /// cluster's name is the context's.
    pub fn new(
        context: impl Into<String>,
        api: impl Into<String>,
        token: ApiToken,
    ) -> Result<Self, ClientError> {
        let context = context.into();
        let api = api.into();
        let base = api
            .trim_end_matches('/')
            .parse::<Uri>()
            .ok()
            .filter(|uri| uri.scheme_str() == Some("http") && uri.authority().is_some());
        let Some(base) = base else {
            return Err(ClientError {
                kind: Box::new(ClientErrorKind::InvalidAddress(format!(
                    "{api:?} is not http://host:port"
                ))),
                endpoint: String::new(),
                context,
                api,
            });
        };
        let client = Client::builder(TokioExecutor::new()).build_http();
        Ok(LocalClient {
            context,
            api,
            base,
            token,
            client,
        })
    }

    /// The context this client talks to.
    pub fn context(&self) -> &str {
        &self.context
    }

    /// The API address this client talks to.
    pub fn api(&self) -> &str {
        &self.api
    }

    /// Every cluster the process serves.
    pub async fn clusters(&self) -> Result<Vec<ClusterInfo>, ClientError> {
        self.call(Method::GET, "/v1/clusters".into(), None).await
    }

    /// Applies a multi-document YAML (or JSON) text; namespaced objects
    /// without a namespace go to `namespace` when given.
    pub async fn apply(
        &self,
        text: &str,
        namespace: Option<&str>,
    ) -> Result<ApplyResponse, ClientError> {
        let mut path = self.cluster_path("apply");
        if let Some(ns) = namespace {
            path.push_str(&format!("?namespace={}", percent_encode(ns)));
        }
        let body = Bytes::copy_from_slice(text.as_bytes());
        // YAML: JSON is YAML too, and the server reads either.
        self.call(Method::POST, path, Some((body, YAML))).await
    }

    /// Deletes one object.
    pub async fn delete(&self, request: &DeleteRequest) -> Result<DeleteResponse, ClientError> {
        let path = self.cluster_path("delete");
        let body = self.encode(&path, request)?;
        self.call(Method::POST, path, Some((body, JSON))).await
    }

    /// Sets and removes labels on one object.
    pub async fn label(&self, request: &LabelRequest) -> Result<LabelResponse, ClientError> {
        let path = self.cluster_path("label");
        let body = self.encode(&path, request)?;
        self.call(Method::POST, path, Some((body, JSON))).await
    }

    /// The objects of `kind` (e.g. `Service`), in `namespace` or all.
    pub async fn objects(
        &self,
        kind: &str,
        group: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, ClientError> {
        let mut path = format!(
            "{}?kind={}",
            self.cluster_path("objects"),
            percent_encode(kind)
        );
        if let Some(group) = group {
            path.push_str(&format!("&group={}", percent_encode(group)));
        }
        if let Some(ns) = namespace {
            path.push_str(&format!("&namespace={}", percent_encode(ns)));
        }
        self.call(Method::GET, path, None).await
    }

    /// Per proxy, the oldest and newest scrape inside the last `window`.
    pub async fn scrapes(&self, window: Duration) -> Result<Vec<PodScrapes>, ClientError> {
        let secs = window.as_secs().max(1);
        let path = format!("{}?window_secs={secs}", self.cluster_path("scrapes"));
        self.call(Method::GET, path, None).await
    }

    /// The cluster's identity and naming settings.
    pub async fn info(&self) -> Result<ClusterInfo, ClientError> {
        self.call(Method::GET, self.cluster_path("info"), None)
            .await
    }

    fn cluster_path(&self, endpoint: &str) -> String {
        format!("/v1/clusters/{}/{endpoint}", percent_encode(&self.context))
    }

    fn error(&self, endpoint: String, kind: ClientErrorKind) -> ClientError {
        ClientError {
            context: self.context.clone(),
            api: self.api.clone(),
            endpoint,
            kind: Box::new(kind),
        }
    }

    fn encode<T: Serialize>(&self, path: &str, value: &T) -> Result<Bytes, ClientError> {
        serde_json::to_vec(value).map(Bytes::from).map_err(|e| {
            self.error(
                format!("POST {path}"),
                ClientErrorKind::Decode(e.to_string()),
            )
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        body: Option<(Bytes, &'static str)>,
    ) -> Result<T, ClientError> {
        let endpoint = format!("{method} {}", path.split('?').next().unwrap_or(&path));
        let fail = |kind| self.error(endpoint.clone(), kind);
        let uri = format!("{}{path}", self.base.to_string().trim_end_matches('/'));
        let mut builder = Request::builder().method(method.clone()).uri(uri).header(
            header::AUTHORIZATION,
            format!("Bearer {}", self.token.secret()),
        );
        let body = match body {
            Some((bytes, media)) => {
                builder = builder.header(header::CONTENT_TYPE, media);
                bytes
            }
            None => Bytes::new(),
        };
        let mut request = builder
            .body(Full::new(body))
            .map_err(|e| fail(ClientErrorKind::InvalidAddress(e.to_string())))?;
        // Kept out of debug output.
        if let Some(value) = request.headers_mut().get_mut(header::AUTHORIZATION) {
            value.set_sensitive(true);
        }
        let response = match tokio::time::timeout(TIMEOUT, self.client.request(request)).await {
            Err(_) => {
                return Err(fail(ClientErrorKind::Transport(format!(
                    "no answer within {}s",
                    TIMEOUT.as_secs()
                ))));
            }
            Ok(Err(err)) if err.is_connect() => {
                return Err(fail(ClientErrorKind::Connect(connect_reason(&err))));
            }
            Ok(Err(err)) => return Err(fail(ClientErrorKind::Transport(innermost(&err)))),
            Ok(Ok(response)) => response,
        };
        let status = response.status();
        let bytes = match tokio::time::timeout(TIMEOUT, response.into_body().collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) => return Err(fail(ClientErrorKind::Transport(innermost(&err)))),
            Err(_) => {
                return Err(fail(ClientErrorKind::Transport(
                    "the answer did not complete".into(),
                )));
            }
        };
        if !status.is_success() {
            let body: ErrorBody = serde_json::from_slice(&bytes).unwrap_or_else(|_| ErrorBody {
                error: format!("{endpoint}: {status}: {}", String::from_utf8_lossy(&bytes)),
                applied: Vec::new(),
            });
            return Err(fail(ClientErrorKind::Api {
                status,
                message: body.error,
                applied: body.applied,
            }));
        }
        serde_json::from_slice(&bytes).map_err(|e| fail(ClientErrorKind::Decode(e.to_string())))
    }
}

/// `connection refused` for the common case, else the innermost cause.
fn connect_reason(err: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return "connection refused".into();
        }
        source = current.source();
    }
    innermost(err)
}

fn innermost(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
