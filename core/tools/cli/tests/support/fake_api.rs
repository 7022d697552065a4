//! A Kubernetes API server for tests: it serves gets and lists of the
//! objects it was given, answers watches with an empty stream, and records
//! every request, so the `strait` binary can be run against a kubeconfig
//! context as against a real cluster.

use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The objects served, by collection path (e.g. `/api/v1/namespaces/linkerd/configmaps`) and name.
#[derive(Clone, Default)]
pub struct FakeApi {
    objects: Arc<Mutex<BTreeMap<(String, String), Value>>>,
    requests: Arc<Mutex<Vec<String>>>,
    authorizations: Arc<Mutex<Vec<String>>>,
    raw: Arc<Mutex<BTreeMap<String, String>>>,
}

/// The collection path of an object: its group's API prefix, its namespace
/// when it has one, and its plural.
fn collection(object: &Value, plural: &str) -> String {
    let api_version = object["apiVersion"].as_str().unwrap_or("v1");
    let prefix = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    match object["metadata"]["namespace"].as_str() {
        Some(ns) => format!("{prefix}/namespaces/{ns}/{plural}"),
        None => format!("{prefix}/{plural}"),
    }
}

impl FakeApi {
    /// Serves `object`, of resource `plural`.
    pub fn add(&self, plural: &str, object: Value) {
        let name = object["metadata"]["name"].as_str().unwrap().to_string();
        let mut object = object;
        object["metadata"]["resourceVersion"] = json!("1");
        self.objects
            .lock()
            .insert((collection(&object, plural), name), object);
    }

    /// Answers GET `path` with `text`, as the API server's pod proxy
    /// passes on what a pod serves.
    pub fn add_raw(&self, path: &str, text: &str) {
        self.raw.lock().insert(path.to_string(), text.to_string());
    }

    /// Every request so far, as `GET /path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().clone()
    }

    /// The distinct `Authorization` headers received.
    pub fn authorizations(&self) -> Vec<String> {
        self.authorizations.lock().clone()
    }

    /// Starts serving on a loopback port; returns its URL.
    pub async fn start(&self) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let api = self.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = api.clone();
                tokio::spawn(async move { api.serve(stream).await });
            }
        });
        url
    }

    async fn serve(&self, mut stream: TcpStream) {
        loop {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte).await {
                    Ok(1) => head.push(byte[0]),
                    _ => return,
                }
            }
            let head = String::from_utf8_lossy(&head).to_string();
            let mut words = head.split_whitespace();
            let method = words.next().unwrap_or("").to_string();
            let target = words.next().unwrap_or("").to_string();
            self.requests.lock().push(format!("{method} {target}"));
            if let Some(auth) = head.lines().find_map(|l| {
                l.strip_prefix("authorization: ")
                    .or_else(|| l.strip_prefix("Authorization: "))
            }) {
                let mut seen = self.authorizations.lock();
                if !seen.iter().any(|a| a == auth) {
                    seen.push(auth.to_string());
                }
            }
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let (status, body) = if query
                .split('&')
                .any(|q| q == "watch=true" || q == "watch=1")
            {
                (200, String::new())
            } else if let Some(text) = self.raw.lock().get(path) {
                (200, text.clone())
            } else {
                let (status, value) = self.answer(path);
                (status, value.to_string())
            };
            let response = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if stream.write_all(response.as_bytes()).await.is_err() {
                return;
            }
        }
    }

    /// A get by name, or a list of a collection (in one namespace, or in
    /// all when the path has none).
    fn answer(&self, path: &str) -> (u16, Value) {
        let objects = self.objects.lock();
        if let Some((collection, name)) = path.rsplit_once('/')
            && let Some(object) = objects.get(&(collection.to_string(), name.to_string()))
        {
            return (200, object.clone());
        }
        let segments: Vec<&str> = path.split('/').collect();
        if let Some(prefix) = looks_like_collection(path) {
            let plural = segments.last().copied().unwrap_or("");
            let items: Vec<Value> = objects
                .iter()
                .filter(|((c, _), _)| {
                    c == path
                        || (!path.contains("/namespaces/")
                            && c.starts_with(&format!("{prefix}/namespaces/"))
                            && c.ends_with(&format!("/{plural}")))
                })
                .map(|(_, o)| o.clone())
                .collect();
            return (
                200,
                json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}),
            );
        }
        let name = segments.last().copied().unwrap_or("");
        (
            404,
            json!({
                "kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": format!("\"{name}\" not found"), "reason": "NotFound", "code": 404,
            }),
        )
    }
}

/// The API prefix of `path` (`/api/v1` or `/apis/GROUP/VERSION`) when it
/// names a collection rather than one object: after the prefix come either
/// `PLURAL` or `namespaces/NS/PLURAL`.
fn looks_like_collection(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let split = match segments.first() {
        Some(&"api") => 2,
        Some(&"apis") => 3,
        _ => return None,
    };
    let (prefix, rest) = segments.split_at(split.min(segments.len()));
    match rest {
        [_] | ["namespaces", _, _] => Some(format!("/{}", prefix.join("/"))),
        _ => None,
    }
}
