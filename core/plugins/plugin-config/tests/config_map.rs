//! The plugins ConfigMap followed through the embedded store, as the API
//! server would serve it: good plugins swap in, bad ones are refused with
//! the reason in the status ConfigMap and in an Event, and the last good
//! one stays.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Event};
use parking_lot::Mutex;
use serde_json::json;
use strait_plugin_config::{
    AUTHZ_PLUGIN_KEY, EXPORT_PLUGIN_KEY, PLUGINS_STATUS_CONFIG_MAP, PluginSinks,
    follow_plugin_config_map, plugins_config_map, read_status, status_annotation,
};
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics};
use strait_store::{ClusterStore, MemoryStore};

const NS: &str = "linkerd";
const NAME: &str = "strait-plugins";
const STATUS: &str = PLUGINS_STATUS_CONFIG_MAP;

struct Setup {
    store: MemoryStore,
    authz: Arc<Mutex<Vec<String>>>,
    export: Arc<Mutex<Vec<String>>>,
}

fn setup() -> Setup {
    let store = MemoryStore::new();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
            "test",
        )
        .expect("namespace");
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let authz = Arc::new(Mutex::new(Vec::new()));
    let export = Arc::new(Mutex::new(Vec::new()));
    let (a, e) = (authz.clone(), export.clone());
    let sinks = PluginSinks {
        authz: Some(Arc::new(move |_, info| {
            a.lock().push(info.label.clone());
            Ok(())
        })),
        export: Some(Arc::new(move |_, info| {
            e.lock().push(info.label.clone());
            Ok(())
        })),
    };
    tokio::spawn(follow_plugin_config_map(
        store.clone(),
        NS.to_string(),
        NAME.to_string(),
        STATUS.to_string(),
        host,
        sinks,
    ));
    Setup {
        store,
        authz,
        export,
    }
}

async fn push(store: &MemoryStore, plugins: &[(&str, &[u8])], version: &str) {
    let config_map = plugins_config_map(NAME, NS, plugins, Some(version));
    store.apply(&config_map, "kubectl").await.expect("apply");
}

/// Waits until the status of `key` in the status ConfigMap satisfies
/// `check`, and returns it.
async fn status(store: &MemoryStore, key: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let current = store
            .get::<ConfigMap>(NS, STATUS)
            .await
            .expect("get")
            .and_then(|cm| read_status(&cm, key).map(str::to_string))
            .unwrap_or_default();
        if check(&current) {
            return current;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the status of {key} never matched; last: {current:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn events(store: &MemoryStore) -> Vec<Event> {
    let mut watch = store.watch::<Event>(strait_store::WatchParams {
        namespace: Some(NS.to_string()),
        ..Default::default()
    });
    use futures::StreamExt;
    match watch.next().await {
        Some(Ok(strait_store::Event::Reset(all))) => all,
        other => panic!("expected the current events, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_plugin_swaps_in_and_a_bad_one_is_refused_and_reported() {
    let s = setup();
    let good = strait_default_plugins::AUTHZ_DEFAULT;
    push(&s.store, &[(AUTHZ_PLUGIN_KEY, good)], "v1").await;
    let text = status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("active")).await;
    assert!(text.starts_with("active v1 (sha256 "), "{text}");
    assert_eq!(*s.authz.lock(), ["v1"]);

    // Garbage: refused, v1 stays, and the user can read why.
    push(
        &s.store,
        &[(AUTHZ_PLUGIN_KEY, b"not a plugin".as_slice())],
        "v2",
    )
    .await;
    let text = status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("rejected")).await;
    assert!(text.contains("authz.wasm"), "{text}");
    assert!(text.contains("still active: v1"), "{text}");
    assert_eq!(*s.authz.lock(), ["v1"]);

    // A plugin of the other world under the authz key: refused by name.
    push(
        &s.store,
        &[(AUTHZ_PLUGIN_KEY, strait_default_plugins::EXPORT_DEFAULT)],
        "v3",
    )
    .await;
    let text = status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.contains("world")).await;
    assert!(text.starts_with("rejected"), "{text}");
    assert!(text.contains("still active: v1"), "{text}");

    // A good one again swaps in.
    push(&s.store, &[(AUTHZ_PLUGIN_KEY, good)], "v4").await;
    status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("active v4")).await;
    assert_eq!(*s.authz.lock(), ["v1", "v4"]);

    let events = events(&s.store).await;
    let reasons: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e.reason.as_deref().unwrap_or(""),
                e.type_.as_deref().unwrap_or(""),
            )
        })
        .collect();
    assert!(
        reasons.contains(&("PluginActivated", "Normal")),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&("PluginRejected", "Warning")),
        "{reasons:?}"
    );
    for event in &events {
        assert_eq!(event.involved_object.kind.as_deref(), Some("ConfigMap"));
        assert_eq!(event.involved_object.name.as_deref(), Some(NAME));
        assert!(
            event
                .message
                .as_deref()
                .unwrap_or("")
                .starts_with("authz.wasm: ")
        );
    }

    // The user's data was left as it was: the status went elsewhere.
    let stored = s.store.get::<ConfigMap>(NS, NAME).await.unwrap().unwrap();
    assert_eq!(
        stored.binary_data.unwrap()[AUTHZ_PLUGIN_KEY].0,
        good.to_vec()
    );
    assert!(
        stored
            .metadata
            .annotations
            .unwrap_or_default()
            .keys()
            .all(|a| !a.starts_with("status.strait.io/")),
        "no status on the plugins ConfigMap"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_goes_to_its_own_sink_and_unchanged_plugins_are_not_reloaded() {
    let s = setup();
    let plugins: [(&str, &[u8]); 2] = [
        (AUTHZ_PLUGIN_KEY, strait_default_plugins::AUTHZ_DEFAULT),
        (EXPORT_PLUGIN_KEY, strait_default_plugins::EXPORT_DEFAULT),
    ];
    push(&s.store, &plugins, "2.0").await;
    status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("active 2.0")).await;
    status(&s.store, EXPORT_PLUGIN_KEY, |t| t.starts_with("active 2.0")).await;
    // Re-applying the same plugins (and the controller's own status
    // writes) load nothing again.
    push(&s.store, &plugins, "2.0").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*s.authz.lock(), ["2.0"]);
    assert_eq!(*s.export.lock(), ["2.0"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_the_mesh_cannot_take_counts_as_rejected() {
    let store = MemoryStore::new();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
            "test",
        )
        .expect("namespace");
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let sinks = PluginSinks {
        authz: Some(Arc::new(|_, _| Err("too large to distribute".into()))),
        export: None,
    };
    tokio::spawn(follow_plugin_config_map(
        store.clone(),
        NS.to_string(),
        NAME.to_string(),
        STATUS.to_string(),
        host,
        sinks,
    ));
    push(
        &store,
        &[(AUTHZ_PLUGIN_KEY, strait_default_plugins::AUTHZ_DEFAULT)],
        "big",
    )
    .await;
    let text = status(&store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("rejected")).await;
    assert!(text.contains("too large to distribute"), "{text}");
    assert!(text.contains("no plugin of this key is active"), "{text}");
}

/// The followers of a Kubernetes control plane: the policy controller's
/// (authz only) and one per Link's service mirror (export only), each
/// writing the status of its own key onto the same status ConfigMap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_of_different_keys_keep_each_others_status() {
    let store = MemoryStore::new();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
            "test",
        )
        .expect("namespace");
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("host");
    let loaded = Arc::new(Mutex::new(Vec::new()));
    let sink = |label: &'static str| -> strait_plugin_config::PluginSink {
        let loaded = loaded.clone();
        Arc::new(move |_, info| {
            loaded.lock().push(format!("{label} {}", info.label));
            Ok(())
        })
    };
    let followers = [
        PluginSinks {
            authz: Some(sink("policy")),
            export: None,
        },
        PluginSinks {
            authz: None,
            export: Some(sink("mirror-east")),
        },
        PluginSinks {
            authz: None,
            export: Some(sink("mirror-west")),
        },
    ];
    for sinks in followers {
        tokio::spawn(follow_plugin_config_map(
            store.clone(),
            NS.to_string(),
            NAME.to_string(),
            STATUS.to_string(),
            host.clone(),
            sinks,
        ));
    }
    let authz = strait_default_plugins::AUTHZ_DEFAULT;
    let export = strait_default_plugins::EXPORT_DEFAULT;
    push(
        &store,
        &[(AUTHZ_PLUGIN_KEY, authz), (EXPORT_PLUGIN_KEY, export)],
        "1",
    )
    .await;
    status(&store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("active 1 ")).await;
    status(&store, EXPORT_PLUGIN_KEY, |t| t.starts_with("active 1 ")).await;

    // Only the export plugin changes: the mirrors write their status, and
    // the policy controller's stays.
    push(
        &store,
        &[
            (AUTHZ_PLUGIN_KEY, authz),
            (EXPORT_PLUGIN_KEY, b"garbage".as_slice()),
        ],
        "2",
    )
    .await;
    status(&store, EXPORT_PLUGIN_KEY, |t| t.starts_with("rejected")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let annotations = store
        .get::<ConfigMap>(NS, STATUS)
        .await
        .unwrap()
        .unwrap()
        .metadata
        .annotations
        .unwrap();
    let authz_status = annotations.get(&status_annotation(AUTHZ_PLUGIN_KEY));
    assert!(
        authz_status.is_some_and(|t| t.starts_with("active 2 ")),
        "the authz status survives the mirrors' writes: {annotations:?}"
    );
    let export_status = &annotations[&status_annotation(EXPORT_PLUGIN_KEY)];
    assert!(
        export_status.contains("still active: 1 "),
        "{export_status}"
    );

    // And the other way round: the policy controller's write leaves the
    // mirrors' status in place.
    push(
        &store,
        &[
            (AUTHZ_PLUGIN_KEY, b"garbage".as_slice()),
            (EXPORT_PLUGIN_KEY, export),
        ],
        "3",
    )
    .await;
    status(&store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("rejected")).await;
    status(&store, EXPORT_PLUGIN_KEY, |t| t.starts_with("active 3 ")).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    status(&store, EXPORT_PLUGIN_KEY, |t| t.starts_with("active 3 ")).await;
    status(&store, AUTHZ_PLUGIN_KEY, |t| t.starts_with("rejected")).await;

    let mut loaded = loaded.lock().clone();
    loaded.sort();
    assert_eq!(
        loaded,
        [
            "mirror-east 1",
            "mirror-east 3",
            "mirror-west 1",
            "mirror-west 3",
            "policy 1",
            "policy 2"
        ]
    );
}

/// In a cluster the followers may only read the plugins ConfigMap (a
/// service mirror handles a remote cluster's data; were it able to write
/// there, a subverted one could replace the mesh's authz plugin). So the
/// follower reports in the status ConfigMap only, and leaves the plugins
/// ConfigMap exactly as the operator wrote it, through activations and
/// rejections of either key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_follower_reports_beside_the_plugins_and_never_writes_them() {
    let s = setup();
    let authz = strait_default_plugins::AUTHZ_DEFAULT;
    let export = strait_default_plugins::EXPORT_DEFAULT;
    assert!(
        s.store
            .get::<ConfigMap>(NS, STATUS)
            .await
            .expect("get")
            .is_none(),
        "no status before the first plugin"
    );
    // The plugins pushed, their version, and the status then expected of
    // authz and of export.
    type Plugins<'a> = [(&'a str, &'a [u8]); 2];
    let rounds: [(Plugins, &str, &str, &str); 2] = [
        (
            [(AUTHZ_PLUGIN_KEY, authz), (EXPORT_PLUGIN_KEY, export)],
            "1",
            "active 1 ",
            "active 1 ",
        ),
        (
            [
                (AUTHZ_PLUGIN_KEY, b"garbage".as_slice()),
                (EXPORT_PLUGIN_KEY, export),
            ],
            "2",
            "rejected: ",
            "active 2 ",
        ),
    ];
    for (plugins, version, authz_status, export_status) in rounds {
        let written = s
            .store
            .apply(
                &plugins_config_map(NAME, NS, &plugins, Some(version)),
                "kubectl",
            )
            .await
            .expect("apply");
        status(&s.store, AUTHZ_PLUGIN_KEY, |t| t.starts_with(authz_status)).await;
        status(&s.store, EXPORT_PLUGIN_KEY, |t| {
            t.starts_with(export_status)
        })
        .await;
        // Anything the followers still had in flight has landed by now.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = s
            .store
            .get::<ConfigMap>(NS, NAME)
            .await
            .expect("get")
            .expect("the plugins ConfigMap");
        assert!(written.metadata.resource_version.is_some());
        assert_eq!(
            now.metadata.resource_version, written.metadata.resource_version,
            "version {version}: the plugins ConfigMap was written after the operator's write"
        );
        assert_eq!(now, written, "version {version}");
    }

    // The status ConfigMap holds one annotation per key and no plugin.
    let report = s
        .store
        .get::<ConfigMap>(NS, STATUS)
        .await
        .expect("get")
        .expect("the status ConfigMap, created by the first report");
    let annotations: Vec<String> = report
        .metadata
        .annotations
        .clone()
        .unwrap_or_default()
        .into_keys()
        .collect();
    assert_eq!(
        annotations,
        [
            status_annotation(AUTHZ_PLUGIN_KEY),
            status_annotation(EXPORT_PLUGIN_KEY)
        ]
    );
    assert_eq!(report.binary_data, None);
    assert_eq!(report.data, None);

    // The Events still name the plugins ConfigMap, which they are about.
    for event in events(&s.store).await {
        assert_eq!(event.involved_object.name.as_deref(), Some(NAME));
    }
}
