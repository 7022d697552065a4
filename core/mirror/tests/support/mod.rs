//! Setup shared by the service mirror's end-to-end tests.
#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_mirror::MirrorMetrics;
use strait_plugin_host::{ExportPlugin, HostConfig, PluginBytes, PluginHost, PluginMetrics};

pub fn meta(ns: Option<&str>, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: ns.map(str::to_string),
        ..Default::default()
    }
}

pub fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: meta(None, name),
        ..Default::default()
    }
}

/// The built-in export plugin on a host of its own.
pub fn export_plugin() -> Arc<ExportPlugin> {
    let host = PluginHost::new(HostConfig::default(), PluginMetrics::new()).expect("plugin host");
    let bytes = PluginBytes {
        origin: "built-in export".into(),
        bytes: strait_default_plugins::EXPORT_DEFAULT.to_vec(),
        version: None,
    };
    Arc::new(ExportPlugin::new(&host, "export", &bytes).expect("default export plugin"))
}

/// The Prometheus text of `metrics`.
pub fn exposition(metrics: &MirrorMetrics) -> String {
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    text
}

/// Polls `check` until it holds, for up to 5 seconds.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("timed out waiting for: {what}");
}
