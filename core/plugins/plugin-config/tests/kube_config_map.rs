//! The plugins ConfigMap followed through the Kubernetes backend, against a
//! scripted API server: what the follower asks for, and what it writes back
//! when a plugin is activated and when one is refused.

use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::{Value, json};
use strait_plugin_config::{
    AUTHZ_PLUGIN_KEY, PLUGINS_STATUS_CONFIG_MAP, PluginSinks, field_manager,
    follow_plugin_config_map, plugins_config_map, status_annotation,
};
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics};
use strait_store_kube::testing::{ApiServer, Received, mock_cluster};

const NS: &str = "linkerd";
const NAME: &str = "strait-plugins";
const STATUS: &str = PLUGINS_STATUS_CONFIG_MAP;
const CONFIG_MAPS: &str = "/api/v1/namespaces/linkerd/configmaps";

/// The plugins ConfigMap as the API server returns it.
fn config_map(bytes: &[u8], version: &str, rv: &str) -> Value {
    let mut cm = serde_json::to_value(plugins_config_map(
        NAME,
        NS,
        &[(AUTHZ_PLUGIN_KEY, bytes)],
        Some(version),
    ))
    .expect("a ConfigMap as JSON");
    cm["apiVersion"] = json!("v1");
    cm["kind"] = json!("ConfigMap");
    cm["metadata"]["resourceVersion"] = json!(rv);
    cm["metadata"]["uid"] = json!("5d1c0c1e-0000-4000-8000-000000000001");
    cm
}

/// What the follower wrote, and the watch requests it made meanwhile
/// (held unanswered until the test sends the next change).
#[derive(Default)]
struct Seen {
    writes: Vec<(String, String, String, Value)>,
    watches: Vec<Received>,
}

/// Answers requests until `count` writes have come: each write is
/// recorded (method, path, field manager, body) and answered with its body
/// as the stored object; watch requests are held. A write to the plugins
/// ConfigMap fails the test: the follower may only read it.
async fn writes(server: &mut ApiServer, seen: &mut Seen, count: usize) {
    let start = seen.writes.len();
    while seen.writes.len() < start + count {
        let request = server.next().await;
        if request.method == http::Method::GET && request.is_watch() {
            assert_eq!(request.path, CONFIG_MAPS);
            seen.watches.push(request);
            continue;
        }
        assert_ne!(
            request.method,
            http::Method::GET,
            "an unexpected read of {}",
            request.path
        );
        assert_ne!(
            request.path,
            format!("{CONFIG_MAPS}/{NAME}"),
            "the follower wrote the plugins ConfigMap"
        );
        let manager = request
            .query
            .get("fieldManager")
            .cloned()
            .unwrap_or_default();
        let mut stored = request.body.clone();
        stored["metadata"]["resourceVersion"] = json!("200");
        seen.writes.push((
            request.method.to_string(),
            request.path.clone(),
            manager,
            request.body.clone(),
        ));
        assert_eq!(request.content_type, "application/apply-patch+yaml");
        assert_eq!(request.query.get("force").map(String::as_str), Some("true"));
        request.respond(200, &stored);
    }
}

/// The next watch request, held from before or new.
async fn watch_request(server: &mut ApiServer, seen: &mut Seen) -> Received {
    if !seen.watches.is_empty() {
        return seen.watches.remove(0);
    }
    let request = server.next().await;
    assert!(request.is_watch(), "{} {}", request.method, request.path);
    request
}

#[tokio::test]
async fn a_good_plugin_is_activated_and_a_bad_one_refused_through_the_api_server() {
    let (store, mut server) = mock_cluster();
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let loaded = Arc::new(Mutex::new(Vec::new()));
    let sink_loaded = loaded.clone();
    let sinks = PluginSinks {
        authz: Some(Arc::new(move |_, info| {
            sink_loaded.lock().push(info.label.clone());
            Ok(())
        })),
        export: None,
    };
    let follower = tokio::spawn(follow_plugin_config_map(
        store,
        NS.to_string(),
        NAME.to_string(),
        STATUS.to_string(),
        host,
        sinks,
    ));
    let good = strait_default_plugins::AUTHZ_DEFAULT;

    // The list: the ConfigMaps of the control plane's namespace.
    let list = server.next().await;
    assert_eq!(list.method, http::Method::GET);
    assert_eq!(list.path, CONFIG_MAPS);
    assert!(!list.is_watch());
    list.respond_list("100", vec![config_map(good, "v1", "90")]);

    // A good plugin: handed to the sink, its status applied onto the
    // status ConfigMap (created by the apply when missing) and an Event
    // recorded about the plugins ConfigMap.
    let mut seen = Seen::default();
    writes(&mut server, &mut seen, 2).await;
    assert_eq!(*loaded.lock(), ["v1"]);
    let (method, path, manager, body) = &seen.writes[0];
    assert_eq!(method, "PATCH");
    assert_eq!(path, &format!("{CONFIG_MAPS}/{STATUS}"));
    assert_eq!(body["metadata"]["name"], STATUS);
    assert_eq!(manager, &field_manager(AUTHZ_PLUGIN_KEY));
    assert_eq!(manager, "strait-plugin-config-authz");
    let status = body["metadata"]["annotations"][status_annotation(AUTHZ_PLUGIN_KEY)]
        .as_str()
        .unwrap_or_default();
    assert!(status.starts_with("active v1 (sha256 "), "{body}");
    assert_eq!(
        body["metadata"]["annotations"].as_object().map(|a| a.len()),
        Some(1),
        "only this key's status: {body}"
    );
    assert_eq!(body.get("binaryData"), None, "no plugin in the status");
    assert_eq!(body.get("data"), None, "no plugin in the status");
    assert_eq!(
        body["metadata"].get("resourceVersion"),
        None,
        "an unconditional write"
    );
    let (method, path, _, event) = &seen.writes[1];
    assert_eq!(method, "PATCH");
    assert!(
        path.starts_with("/api/v1/namespaces/linkerd/events/"),
        "{path}"
    );
    assert_eq!(event["kind"], "Event");
    assert_eq!(event["reason"], "PluginActivated");
    assert_eq!(event["type"], "Normal");
    assert_eq!(event["involvedObject"]["kind"], "ConfigMap");
    assert_eq!(event["involvedObject"]["name"], NAME);
    assert_eq!(
        event["involvedObject"]["uid"],
        "5d1c0c1e-0000-4000-8000-000000000001"
    );

    // Garbage arrives through the watch: refused, the sink is not called,
    // the status says why and what still runs, and a Warning is recorded.
    let watch = watch_request(&mut server, &mut seen).await;
    assert_eq!(
        watch.query.get("resourceVersion").map(String::as_str),
        Some("100")
    );
    watch.respond_events(&[("MODIFIED", config_map(b"not a plugin", "v2", "101"))]);
    writes(&mut server, &mut seen, 2).await;
    assert_eq!(
        *loaded.lock(),
        ["v1"],
        "the bad plugin never reaches the sink"
    );
    let (_, path, manager, body) = &seen.writes[2];
    assert_eq!(path, &format!("{CONFIG_MAPS}/{STATUS}"));
    assert_eq!(manager, "strait-plugin-config-authz");
    let status = body["metadata"]["annotations"][status_annotation(AUTHZ_PLUGIN_KEY)]
        .as_str()
        .unwrap_or_default();
    assert!(status.starts_with("rejected: "), "{status}");
    assert!(status.contains("authz.wasm"), "names the key: {status}");
    assert!(status.contains("; still active: v1 (sha256 "), "{status}");
    let (_, path, _, event) = &seen.writes[3];
    assert!(
        path.starts_with("/api/v1/namespaces/linkerd/events/"),
        "{path}"
    );
    assert_eq!(event["reason"], "PluginRejected");
    assert_eq!(event["type"], "Warning");
    assert!(
        event["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("authz.wasm: rejected: "),
        "{event}"
    );

    // Nothing more is written until the ConfigMap changes again.
    let quiet = tokio::time::timeout(Duration::from_millis(300), async {
        loop {
            let request = server.next_within(Duration::from_millis(300)).await;
            match request {
                Some(r) if r.is_watch() => seen.watches.push(r),
                Some(r) => return Some(format!("{} {}", r.method, r.path)),
                None => return None,
            }
        }
    })
    .await;
    assert!(
        matches!(quiet, Ok(None) | Err(_)),
        "unexpected request: {quiet:?}"
    );
    follower.abort();
}
