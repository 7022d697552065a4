use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use tonic::Code;

use super::*;
use crate::{OfferedPlugin, plugin_digest};

const PATIENCE: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(100);

fn offer(offer: &PluginOffer, kind: PluginKind, version: &str, wasm: &'static [u8]) {
    let plugin = OfferedPlugin {
        kind,
        version: version.to_string(),
        origin: "test".to_string(),
        wasm: Bytes::from_static(wasm),
    };
    if let Err(e) = offer.offer(plugin) {
        panic!("offer refused: {e}");
    }
}

fn request(kind: &str, current_digest: &str) -> WatchPluginRequest {
    WatchPluginRequest {
        kind: kind.to_string(),
        current_digest: current_digest.to_string(),
    }
}

fn open(service: &PluginDistributionService, request: &WatchPluginRequest) -> PluginUpdateStream {
    match service.watch(request) {
        Ok(stream) => stream,
        Err(status) => panic!("watch refused: {status}"),
    }
}

async fn next_version(stream: &mut PluginUpdateStream) -> String {
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(Some(Ok(update))) => update.version,
        other => panic!("expected an update, got {other:?}"),
    }
}

async fn assert_quiet(stream: &mut PluginUpdateStream) {
    if let Ok(item) = tokio::time::timeout(QUIET, stream.next()).await {
        panic!("expected nothing, got {item:?}");
    }
}

#[tokio::test]
async fn unknown_kinds_are_refused_by_name() {
    let service = PluginDistributionService::new(&PluginOffer::new());
    let Err(status) = service.watch(&request("policy", "")) else {
        panic!("an unknown kind was accepted");
    };
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("\"policy\""), "{status}");
}

#[tokio::test]
async fn a_watch_waits_for_the_first_offer() {
    let plugins = PluginOffer::new();
    let service = PluginDistributionService::new(&plugins);
    let mut stream = open(&service, &request("export", ""));
    assert_quiet(&mut stream).await;
    offer(&plugins, PluginKind::Export, "e1", b"export-1");
    assert_eq!(next_version(&mut stream).await, "e1");
}

#[tokio::test]
async fn the_plugin_the_client_runs_is_not_sent_again() {
    let plugins = PluginOffer::new();
    offer(&plugins, PluginKind::Authz, "a1", b"authz-1");
    let service = PluginDistributionService::new(&plugins);
    let running = plugin_digest(b"authz-1").to_ascii_uppercase();
    let mut stream = open(&service, &request("authz", &running));
    assert_quiet(&mut stream).await;

    // Relabelling the same bytes is no reason to download them again.
    offer(&plugins, PluginKind::Authz, "a1-again", b"authz-1");
    assert_quiet(&mut stream).await;

    offer(&plugins, PluginKind::Authz, "a2", b"authz-2");
    assert_eq!(next_version(&mut stream).await, "a2");
}

#[tokio::test]
async fn a_plugin_replaced_before_it_was_read_is_skipped() {
    let plugins = PluginOffer::new();
    let service = PluginDistributionService::new(&plugins);
    let mut stream = open(&service, &request("authz", ""));
    offer(&plugins, PluginKind::Authz, "a1", b"authz-1");
    offer(&plugins, PluginKind::Authz, "a2", b"authz-2");
    assert_eq!(next_version(&mut stream).await, "a2");
    assert_quiet(&mut stream).await;
}

#[tokio::test]
async fn watches_end_when_the_offer_is_dropped() {
    let plugins = PluginOffer::new();
    offer(&plugins, PluginKind::Authz, "a1", b"authz-1");
    let service = PluginDistributionService::new(&plugins);
    let mut stream = open(&service, &request("authz", ""));
    assert_eq!(next_version(&mut stream).await, "a1");
    drop(plugins);
    match tokio::time::timeout(PATIENCE, stream.next()).await {
        Ok(None) => {}
        other => panic!("expected the end of the stream, got {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_watch_lets_go_of_the_channel() {
    let plugins = PluginOffer::new();
    let service = PluginDistributionService::new(&plugins);
    let baseline = plugins.receiver_count(PluginKind::Authz);
    let stream = open(&service, &request("authz", ""));
    assert_eq!(plugins.receiver_count(PluginKind::Authz), baseline + 1);
    assert_eq!(plugins.receiver_count(PluginKind::Export), baseline);
    drop(stream);
    assert_eq!(plugins.receiver_count(PluginKind::Authz), baseline);
}
