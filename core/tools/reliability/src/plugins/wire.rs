//! What the plugins drill touches: the plugins ConfigMap of the server's
//! cluster (written as `strait plugin push` writes it, or as an operator
//! with kubectl could), the status the control plane reports in the status
//! ConfigMap beside it and the Events it records on it, and requests sent
//! through a meshed client's proxy.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Event};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_mesh::names::CONTROL_PLANE_NAMESPACE;
use strait_mesh::ports::OUTBOUND_PORT;
use strait_plugin_config::{AUTHZ_PLUGIN_KEY, PLUGINS_CONFIG_MAP, PLUGINS_STATUS_CONFIG_MAP};
use strait_store::{ClusterStore, MemoryStore};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who writes it past the push: an operator's `kubectl apply`.
const OPERATOR_MANAGER: &str = "kubectl";

/// The authz status annotation, as the control plane writes it on the
/// status ConfigMap.
pub(crate) fn status_annotation() -> String {
    strait_plugin_config::status_annotation(AUTHZ_PLUGIN_KEY)
}

/// Writes `bytes` under `authz.wasm` the way an operator applying a
/// ConfigMap by hand would: only that key, no check before.
pub(crate) async fn operator_write(store: &MemoryStore, bytes: &[u8]) -> Result<(), String> {
    let config_map = ConfigMap {
        metadata: ObjectMeta {
            name: Some(PLUGINS_CONFIG_MAP.to_string()),
            namespace: Some(CONTROL_PLANE_NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        binary_data: Some(BTreeMap::from([(
            AUTHZ_PLUGIN_KEY.to_string(),
            ByteString(bytes.to_vec()),
        )])),
        ..ConfigMap::default()
    };
    store
        .apply(&config_map, OPERATOR_MANAGER)
        .await
        .map(drop)
        .map_err(|e| {
            format!("writing configmap {CONTROL_PLANE_NAMESPACE}/{PLUGINS_CONFIG_MAP}: {e}")
        })
}

/// `read` of the control plane's ConfigMap `name` as stored (JSON), if it
/// exists: read in place, without copying or decoding the plugins ConfigMap's
/// plugins, which may be megabytes.
fn read_config_map<T>(
    store: &MemoryStore,
    name: &str,
    read: impl Fn(&serde_json::Value) -> Option<T>,
) -> Option<T> {
    store.objects().into_iter().find_map(|(kind, object)| {
        let meta = &object["metadata"];
        if kind.group.is_empty()
            && kind.kind == "ConfigMap"
            && meta["namespace"] == CONTROL_PLANE_NAMESPACE
            && meta["name"] == name
        {
            read(&object)
        } else {
            None
        }
    })
}

/// The authz status annotation now; empty while there is none.
pub(crate) fn status(store: &MemoryStore) -> String {
    let annotation = status_annotation();
    read_config_map(store, PLUGINS_STATUS_CONFIG_MAP, |cm| {
        cm["metadata"]["annotations"][annotation.as_str()]
            .as_str()
            .map(str::to_string)
    })
    .unwrap_or_default()
}

/// A short fingerprint of the `authz.wasm` bytes as stored (their length
/// and ends in base64), to tell whether a write reached the ConfigMap;
/// empty while there is none.
pub(crate) fn stored_authz(store: &MemoryStore) -> String {
    read_config_map(store, PLUGINS_CONFIG_MAP, |cm| {
        let text = cm["binaryData"][AUTHZ_PLUGIN_KEY].as_str()?;
        let head = text.get(..32).unwrap_or(text);
        let tail = text.get(text.len().saturating_sub(32)..).unwrap_or(text);
        Some(format!("{} {head}..{tail}", text.len()))
    })
    .unwrap_or_default()
}

/// How often the store is read while a drill waits for it.
const POLL_EVERY: Duration = Duration::from_millis(100);

/// Waits until the status satisfies `wanted`; the last status seen either
/// way.
pub(crate) async fn wait_status(
    store: &MemoryStore,
    timeout: Duration,
    wanted: impl Fn(&str) -> bool,
) -> Result<String, String> {
    let polled = crate::poll::until(timeout, POLL_EVERY, || {
        let now = status(store);
        wanted(&now).then_some(now)
    })
    .await;
    polled.ok_or_else(|| status(store))
}

/// The Event the control plane recorded on the plugins ConfigMap for
/// `status` (its message is `authz.wasm: <status>`), as
/// `<type> <reason>: <message>`; waits up to `timeout` for it.
pub(crate) async fn wait_event(
    store: &MemoryStore,
    status: &str,
    timeout: Duration,
) -> Option<(String, String)> {
    let message = format!("{AUTHZ_PLUGIN_KEY}: {status}");
    let found = crate::poll::until(timeout, POLL_EVERY, || {
        store.objects().into_iter().find_map(|(kind, object)| {
            if !(kind.group.is_empty() && kind.kind == "Event") {
                return None;
            }
            let event: Event = serde_json::from_value((*object).clone()).ok()?;
            let about = &event.involved_object;
            (about.kind.as_deref() == Some("ConfigMap")
                && about.name.as_deref() == Some(PLUGINS_CONFIG_MAP)
                && about.namespace.as_deref() == Some(CONTROL_PLANE_NAMESPACE)
                && event.message.as_deref() == Some(message.as_str()))
            .then(|| {
                (
                    event.type_.unwrap_or_default(),
                    event.reason.unwrap_or_default(),
                )
            })
        })
    })
    .await;
    found.map(|(type_, reason)| (type_, format!("{reason}: {message}")))
}

/// What one request through a proxy got back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The status code, e.g. `403`.
    pub(crate) code: u16,
    /// The status line, e.g. `HTTP/1.1 403 Forbidden`.
    pub(crate) status_line: String,
    /// The body as text, trimmed.
    pub(crate) body: String,
    /// From connecting to the end of the answer.
    pub(crate) took: Duration,
}

impl Answer {
    /// `HTTP/1.1 403 Forbidden "unauthorized request on route"`.
    pub(crate) fn quote(&self) -> String {
        if self.body.is_empty() {
            self.status_line.clone()
        } else {
            format!("{} {:?}", self.status_line, self.body)
        }
    }
}

/// `GET path` to `authority` sent as the meshed client at `client` sends
/// its own: from the client's address to its proxy's outbound port, so the
/// request crosses both proxies with the client's identity. Gives up after
/// `timeout`.
pub(crate) async fn call_through_proxy(
    client: IpAddr,
    authority: &str,
    path: &str,
    timeout: Duration,
) -> Result<Answer, String> {
    get(
        Some(client),
        SocketAddr::new(client, OUTBOUND_PORT),
        authority,
        path,
        timeout,
    )
    .await
}

/// `GET path` with `Host: authority` to `to`, from `source` when given.
pub(crate) async fn get(
    source: Option<IpAddr>,
    to: SocketAddr,
    authority: &str,
    path: &str,
    timeout: Duration,
) -> Result<Answer, String> {
    let started = Instant::now();
    let exchange = async {
        let socket = match to {
            SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .map_err(|e| format!("socket: {e}"))?;
        if let Some(source) = source {
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(|e| format!("binding {source}: {e}"))?;
        }
        let mut stream = socket
            .connect(to)
            .await
            .map_err(|e| format!("connecting to {to}: {e}"))?;
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: strait-reliability\r\n\
             Connection: close\r\n\r\n"
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| format!("sending to {to}: {e}"))?;
        let mut response = Vec::new();
        stream
            .read_to_end(&mut response)
            .await
            .map_err(|e| format!("reading from {to}: {e}"))?;
        Ok::<_, String>(response)
    };
    let response = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| format!("no answer from {to} within {timeout:?}"))??;
    let took = started.elapsed();
    parse_response(&response)
        .map(|(code, status_line, body)| Answer {
            code,
            status_line,
            body,
            took,
        })
        .ok_or_else(|| {
            format!(
                "{to} answered {:?}, not an HTTP response",
                String::from_utf8_lossy(&response[..response.len().min(80)])
            )
        })
}

/// The sum of the `plugin_calls` counters in a proxy's metrics text for
/// plugin `authz`, `version` and `outcome` (`ok`, `timeout`,
/// `memory_limit`, `trap`, `error`).
pub(crate) fn plugin_calls(metrics: &str, version: &str, outcome: &str) -> u64 {
    let version = format!("version=\"{version}\"");
    let outcome = format!("outcome=\"{outcome}\"");
    metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| {
            l.split('{')
                .next()
                .is_some_and(|name| name.contains("plugin_calls"))
                && !l.contains("_bucket")
                && !l.contains("duration")
        })
        .filter(|l| l.contains("plugin=\"authz\"") && l.contains(&version) && l.contains(&outcome))
        .filter_map(|l| l.rsplit(' ').next()?.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

/// Status code, status line and body of an HTTP/1.1 response read to its
/// end (a chunked body decoded).
pub(crate) fn parse_response(response: &[u8]) -> Option<(u16, String, String)> {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status_line = lines.next()?.trim().to_string();
    let code = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(name, value)| {
            name.trim().eq_ignore_ascii_case("transfer-encoding")
                && value.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Some((code, status_line, body.trim().to_string()))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = size.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size, 16) else {
            break;
        };
        if size == 0 {
            break;
        }
        let Some(chunk) = rest.get(..size) else {
            out.push_str(rest);
            break;
        };
        out.push_str(chunk);
        body = rest.get(size..).unwrap_or("").trim_start_matches("\r\n");
    }
    out
}

/// `bytes` (a component) with a custom section of `size` bytes appended:
/// still a valid component, behaving as before, just larger.
pub(crate) fn padded(bytes: &[u8], size: usize) -> Vec<u8> {
    strait_default_plugins::fixtures::with_custom_section(bytes, "padding", &vec![0x5a; size])
}
