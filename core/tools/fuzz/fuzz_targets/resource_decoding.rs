//! Arbitrary bytes as the documents `strait apply` and the embedded store
//! load: a multi-document YAML stream (JSON being YAML) applied to a fresh
//! in-memory store, each document decoded as the resource types strait reads
//! (Link, with its Go durations, and the policy resources), and the decoded policy resources and pods
//! fed to the policy index, which turns them into authorizations.
//!
//! Oracles: no panic on any input; every skipped document is reported with a
//! reason; an object the store accepted can be read back with its kind.
#![no_main]

use k8s_openapi::api::core::v1::Pod;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use strait_api::gateway;
use strait_api::go_duration;
use strait_api::link::Link;
use strait_api::policy::{
    AuthorizationPolicy, HttpRoute, MeshTlsAuthentication, NetworkAuthentication, Server,
    ServerAuthorization,
};
use strait_policy::{Index, IndexConfig};
use strait_store::MemoryStore;

/// Decodes as `T`, and if that works, checks the value survives a JSON round trip.
fn decode<T: DeserializeOwned + serde::Serialize>(value: &Value) -> Option<T> {
    let typed: T = serde_json::from_value(value.clone()).ok()?;
    let again = serde_json::to_value(&typed).ok()?;
    let _: T = serde_json::from_value(again).ok()?;
    Some(typed)
}

fn feed(index: &mut Index, pods: &mut Vec<(String, String, Vec<u16>)>, value: &Value) {
    if let Some(link) = decode::<Link>(value) {
        // The probe's durations are read with Go's notation by the mirror.
        let probe = link.spec.probe_spec.unwrap_or_default();
        for text in [probe.period, probe.timeout].into_iter().flatten() {
            let _ = go_duration(&text);
        }
    }
    let _ = decode::<HttpRoute>(value);
    match value["kind"].as_str() {
        Some("HTTPRoute") => {
            if let Some(r) = decode::<HttpRoute>(value) {
                index.apply_http_route(&r);
            }
            if let Some(r) = decode::<gateway::HttpRoute>(value) {
                index.apply_gateway_http_route(&r);
            }
        }
        Some("Server") => {
            if let Some(r) = decode::<Server>(value) {
                index.apply_server(&r);
            }
        }
        Some("AuthorizationPolicy") => {
            if let Some(r) = decode::<AuthorizationPolicy>(value) {
                index.apply_authorization_policy(&r);
            }
        }
        Some("MeshTLSAuthentication") => {
            if let Some(r) = decode::<MeshTlsAuthentication>(value) {
                index.apply_meshtls_authentication(&r);
            }
        }
        Some("NetworkAuthentication") => {
            if let Some(r) = decode::<NetworkAuthentication>(value) {
                index.apply_network_authentication(&r);
            }
        }
        Some("ServerAuthorization") => {
            if let Some(r) = decode::<ServerAuthorization>(value) {
                index.apply_server_authorization(&r);
            }
        }
        Some("Pod") => {
            if let Some(pod) = decode::<Pod>(value) {
                let ports = pod
                    .spec
                    .iter()
                    .flat_map(|s| &s.containers)
                    .flat_map(|c| c.ports.iter().flatten())
                    .filter_map(|p| u16::try_from(p.container_port).ok())
                    .collect();
                pods.push((
                    pod.metadata.namespace.clone().unwrap_or_default(),
                    pod.metadata.name.clone().unwrap_or_default(),
                    ports,
                ));
                index.apply_pod(&pod);
            }
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    // JSON bodies straight into the typed resources.
    if let Ok(value) = serde_json::from_slice::<Value>(data) {
        let mut index = Index::new(IndexConfig::default());
        feed(&mut index, &mut Vec::new(), &value);
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };

    // What the embedded store does with a file or an apply body.
    let store = MemoryStore::new();
    let report = store.apply_yaml("fuzz.yaml", text, "fuzz");
    for error in &report.errors {
        assert!(
            error.starts_with("fuzz.yaml document "),
            "unplaced error: {error}"
        );
    }
    for (kind, object) in store.objects() {
        assert!(object.is_object(), "stored {kind:?} is not an object");
    }

    // Each document as the policy controller would see it.
    let mut index = Index::new(IndexConfig::default());
    let mut pods = Vec::new();
    for document in serde_norway::Deserializer::from_str(text).take(64) {
        let Ok(value) = Value::deserialize(document) else {
            break;
        };
        feed(&mut index, &mut pods, &value);
    }
    for (namespace, name, ports) in &pods {
        for port in ports.iter().copied().chain([4191, 8080]) {
            if let Some(policy) = index.track_port(namespace, name, port) {
                let _ = format!("{policy:?}");
            }
        }
    }
    let _ = index.changed_since(0);
    let _ = index.ignored();
});
