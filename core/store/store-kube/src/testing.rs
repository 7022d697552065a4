//! A scripted API server for tests of code running over a [`KubeStore`]:
//! the test receives each request the store sends and answers it as
//! Kubernetes would, so what reaches the API server (methods, paths, field
//! managers, bodies) can be asserted without a cluster.
//!
//! Test support only (the `testing` feature): a request that does not come
//! in time, or a body that cannot be read, fails the test by panicking.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use kube::client::Body;
use serde_json::Value;
use tower_test::mock::{self, Handle, SendResponse};

use crate::KubeStore;

/// How long strait gets to send an expected request.
const REQUEST_WAIT: Duration = Duration::from_secs(1);

/// Receives the requests a [`KubeStore`] sends.
pub struct ApiServer {
    handle: Handle<Request<Body>, Response<Body>>,
}

/// A request as received, with the means to answer it.
pub struct Received {
    /// The HTTP method (PATCH for an apply, GET for a get, list or watch).
    pub method: http::Method,
    /// The request path, e.g. `/api/v1/namespaces/linkerd/configmaps/x`.
    pub path: String,
    /// The query parameters, decoded (`fieldManager`, `watch`, ...).
    pub query: BTreeMap<String, String>,
    /// The `Content-Type` header, e.g. `application/apply-patch+yaml`.
    pub content_type: String,
    /// The body as JSON; `Null` when empty.
    pub body: Value,
    reply: SendResponse<Response<Body>>,
}

/// A store talking to a scripted API server; the client's default namespace
/// is `default`, as with a kubeconfig that sets none.
pub fn mock_cluster() -> (KubeStore, ApiServer) {
    let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
    let client = kube::Client::new(service, "default");
    (KubeStore::new(client), ApiServer { handle })
}

impl ApiServer {
    /// The next request strait sends; fails the test if none comes.
    pub async fn next(&mut self) -> Received {
        self.next_within(REQUEST_WAIT)
            .await
            .expect("strait sent the expected request in time")
    }

    /// The next request strait sends within `wait`, if any: for tests that
    /// answer whatever comes, in the order it comes.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        let (request, reply) = tokio::time::timeout(wait, self.handle.next_request())
            .await
            .ok()?
            .expect("the client is still connected");
        let (parts, body) = request.into_parts();
        let bytes = body.collect().await.expect("a readable body").to_bytes();
        Some(Received {
            method: parts.method,
            path: parts.uri.path().to_string(),
            query: form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
            content_type: parts
                .headers
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string(),
            body: if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).expect("a JSON body")
            },
            reply,
        })
    }

    /// Asserts strait sends nothing for `wait`.
    pub async fn expect_silence(&mut self, wait: Duration) {
        if let Ok(Some((request, _))) = tokio::time::timeout(wait, self.handle.next_request()).await
        {
            panic!("unexpected request {} {}", request.method(), request.uri());
        }
    }
}

impl Received {
    /// Whether this is a watch (as opposed to a list) of a collection.
    pub fn is_watch(&self) -> bool {
        self.query.get("watch").map(String::as_str) == Some("true")
    }

    /// Answers with `status` and a JSON body.
    pub fn respond(self, status: u16, body: &Value) {
        self.respond_raw(status, serde_json::to_vec(body).expect("JSON"));
    }

    /// Answers a list request with `items` at resourceVersion `rv`.
    pub fn respond_list(self, rv: &str, items: Vec<Value>) {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "metadata": {"resourceVersion": rv},
            "items": items,
        });
        self.respond(200, &list);
    }

    /// Answers a watch request with these watch events, one per line; the
    /// stream then ends, as when the server's watch timeout expires.
    pub fn respond_events(self, events: &[(&str, Value)]) {
        let mut body = Vec::new();
        for (kind, object) in events {
            let line = serde_json::json!({"type": kind, "object": object});
            body.extend(serde_json::to_vec(&line).expect("JSON"));
            body.push(b'\n');
        }
        self.respond_raw(200, body);
    }

    fn respond_raw(self, status: u16, body: Vec<u8>) {
        let response = Response::builder()
            .status(StatusCode::from_u16(status).expect("a status code"))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("a response");
        self.reply.send_response(response);
    }
}
