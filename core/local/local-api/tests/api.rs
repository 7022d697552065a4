//! The server over a real socket, driven through the client, backed by a
//! test cluster with an in-memory store.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use strait_local_api::wire::{ApplyOutcome, DeleteRequest, LabelOutcome, LabelRequest, ObjectId};
use strait_local_api::{ApiToken, ClusterBackend, LocalClient, serve};
use strait_store::MemoryStore;
use support::TestCluster;

/// Serves `names`; returns their stores and a client maker for a context.
async fn start(names: &[&str]) -> (Vec<MemoryStore>, Api) {
    let stores: Vec<MemoryStore> = names.iter().map(|_| MemoryStore::new()).collect();
    let backends: Vec<Arc<dyn ClusterBackend>> = names
        .iter()
        .zip(&stores)
        .map(|(name, store)| {
            Arc::new(TestCluster {
                name: name.to_string(),
                store: store.clone(),
            }) as Arc<dyn ClusterBackend>
        })
        .collect();
    let token = ApiToken::generate().unwrap();
    let (addr, _task) = serve("127.0.0.1:0".parse().unwrap(), backends, token.clone())
        .await
        .unwrap();
    let api = Api {
        url: format!("http://{addr}"),
        token,
    };
    (stores, api)
}

/// Where the test's API listens and its token.
struct Api {
    url: String,
    token: ApiToken,
}

impl Api {
    fn client(&self, context: &str) -> LocalClient {
        LocalClient::new(context, &self.url, self.token.clone()).unwrap()
    }
}

const MANIFEST: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: mc-demo
---
apiVersion: v1
kind: Service
metadata:
  name: bb
  namespace: mc-demo
  labels:
    app: bb
spec:
  ports:
  - name: http
    port: 8080
  selector:
    app: bb
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ServiceAccount
  metadata:
    name: slow-cooker
    namespace: mc-demo
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: bb
    namespace: mc-demo
  spec:
    replicas: 1
"#;

fn outcomes(
    response: &strait_local_api::wire::ApplyResponse,
) -> Vec<(String, String, ApplyOutcome)> {
    response
        .results
        .iter()
        .map(|r| (r.object.kind.clone(), r.object.name.clone(), r.outcome))
        .collect()
}

#[tokio::test]
async fn apply_creates_then_leaves_unchanged_then_configures() {
    let (stores, api) = start(&["east"]).await;
    let east = api.client("east");
    let first = east.apply(MANIFEST, None).await.unwrap();
    use ApplyOutcome::*;
    let names = |o: ApplyOutcome| {
        vec![
            ("Namespace".to_string(), "mc-demo".to_string(), o),
            ("Service".into(), "bb".into(), o),
            ("ServiceAccount".into(), "slow-cooker".into(), o),
            ("Deployment".into(), "bb".into(), o),
        ]
    };
    assert_eq!(outcomes(&first), names(Created));
    assert_eq!(first.results[3].object.group, "apps");
    assert_eq!(
        first.results[1].object.namespace.as_deref(),
        Some("mc-demo")
    );
    assert_eq!(first.results[0].object.namespace, None);

    let second = east.apply(MANIFEST, None).await.unwrap();
    assert_eq!(outcomes(&second), names(Unchanged));

    let changed = MANIFEST.replace("port: 8080", "port: 9090");
    let third = east.apply(&changed, None).await.unwrap();
    assert_eq!(third.results[1].outcome, Configured);
    assert_eq!(third.results[0].outcome, Unchanged);
    let services = east
        .objects("Service", None, Some("mc-demo"))
        .await
        .unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0]["spec"]["ports"][0]["port"], 9090);
    assert!(stores[0].write_count() > 0);
}

#[tokio::test]
async fn json_and_a_default_namespace_are_accepted() {
    let (_stores, api) = start(&["east"]).await;
    let east = api.client("east");
    east.apply(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: mc-demo}\n",
        None,
    )
    .await
    .unwrap();
    let json = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}"#;
    let applied = east.apply(json, Some("mc-demo")).await.unwrap();
    assert_eq!(
        applied.results[0].object.namespace.as_deref(),
        Some("mc-demo")
    );
    let mismatch = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: default}\n";
    let err = east.apply(mismatch, Some("mc-demo")).await.unwrap_err();
    assert!(err.to_string().contains("does not match"), "{err}");
}

#[tokio::test]
async fn a_bad_document_is_named_and_what_came_before_stays() {
    let (_stores, api) = start(&["east"]).await;
    let east = api.client("east");
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n\
                apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: missing}\n---\n\
                apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n";
    let err = east.apply(text, None).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    let message = err.api_message().unwrap();
    assert!(message.starts_with("document 2: "), "{message}");
    assert!(
        message.contains(r#"namespaces "missing" not found"#),
        "{message}"
    );
    assert!(
        message.contains("the object before it was applied and stays applied"),
        "{message}"
    );
    assert_eq!(err.applied().len(), 1);
    let namespaces = east.objects("Namespace", None, None).await.unwrap();
    let names: Vec<&str> = namespaces
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert!(names.contains(&"a") && !names.contains(&"b"), "{names:?}");

    let err = east.apply("kind: [unclosed\n", None).await.unwrap_err();
    let message = err.api_message().unwrap();
    assert!(message.starts_with("document 1: invalid YAML"), "{message}");
    assert!(message.contains("nothing was applied"), "{message}");

    let err = east.apply("- just\n- a list\n", None).await.unwrap_err();
    assert!(
        err.api_message()
            .unwrap()
            .contains("not a Kubernetes object"),
        "{err}"
    );
}

#[tokio::test]
async fn delete_removes_and_names_what_is_missing() {
    let (_stores, api) = start(&["east"]).await;
    let east = api.client("east");
    east.apply(MANIFEST, None).await.unwrap();
    let request = DeleteRequest {
        kind: "Service".into(),
        group: None,
        namespace: Some("mc-demo".into()),
        name: "bb".into(),
    };
    let deleted = east.delete(&request).await.unwrap();
    assert_eq!(
        deleted.deleted,
        ObjectId {
            group: String::new(),
            kind: "Service".into(),
            namespace: Some("mc-demo".into()),
            name: "bb".into()
        }
    );
    assert!(
        east.objects("Service", None, Some("mc-demo"))
            .await
            .unwrap()
            .is_empty()
    );
    let err = east.delete(&request).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        err.api_message(),
        Some(r#"services "bb" in mc-demo not found"#)
    );
}

fn label_request(set: &[(&str, &str)], remove: &[&str], overwrite: bool) -> LabelRequest {
    LabelRequest {
        kind: "Service".into(),
        group: None,
        namespace: Some("mc-demo".into()),
        name: "bb".into(),
        set: set
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        remove: remove.iter().map(|k| k.to_string()).collect(),
        overwrite,
    }
}

async fn labels(east: &LocalClient) -> BTreeMap<String, String> {
    let services = east
        .objects("Service", None, Some("mc-demo"))
        .await
        .unwrap();
    serde_json::from_value(services[0]["metadata"]["labels"].clone()).unwrap_or_default()
}

#[tokio::test]
async fn labels_are_set_refused_without_overwrite_and_removed() {
    let (_stores, api) = start(&["east"]).await;
    let east = api.client("east");
    east.apply(MANIFEST, None).await.unwrap();
    let exported = ("mirror.linkerd.io/exported", "remote-discovery");

    let done = east
        .label(&label_request(&[exported], &[], false))
        .await
        .unwrap();
    assert_eq!(done.outcome, LabelOutcome::Labeled);
    let other = east
        .label(&label_request(&[("team", "a")], &[], false))
        .await
        .unwrap();
    assert_eq!(other.outcome, LabelOutcome::Labeled);
    let now = labels(&east).await;
    assert_eq!(
        now.get("mirror.linkerd.io/exported").map(String::as_str),
        Some("remote-discovery")
    );
    assert_eq!(
        now.get("team").map(String::as_str),
        Some("a"),
        "a second label keeps the first"
    );
    assert_eq!(now.get("app").map(String::as_str), Some("bb"));

    let err = east
        .label(&label_request(
            &[("mirror.linkerd.io/exported", "true")],
            &[],
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(409));
    assert_eq!(
        err.api_message(),
        Some(
            "'mirror.linkerd.io/exported' already has a value (remote-discovery), and --overwrite is false"
        )
    );
    let overwritten = east
        .label(&label_request(
            &[("mirror.linkerd.io/exported", "true")],
            &[],
            true,
        ))
        .await
        .unwrap();
    assert_eq!(overwritten.outcome, LabelOutcome::Labeled);
    let same = east
        .label(&label_request(
            &[("mirror.linkerd.io/exported", "true")],
            &[],
            true,
        ))
        .await
        .unwrap();
    assert_eq!(same.outcome, LabelOutcome::NotLabeled);

    // Removing a label apply set, and one the label command set.
    let removed = east
        .label(&label_request(
            &[],
            &["mirror.linkerd.io/exported", "app", "nope"],
            false,
        ))
        .await
        .unwrap();
    assert_eq!(removed.outcome, LabelOutcome::Unlabeled);
    assert_eq!(
        removed.warnings,
        vec![r#"label "nope" not found."#.to_string()]
    );
    let now = labels(&east).await;
    assert_eq!(now, BTreeMap::from([("team".to_string(), "a".to_string())]));

    // Labelling took over nothing else: re-applying the manifest with a
    // changed spec still configures it, and apply's own label comes back.
    let changed = MANIFEST.replace("port: 8080", "port: 9090");
    let applied = east.apply(&changed, None).await.unwrap();
    assert_eq!(applied.results[1].outcome, ApplyOutcome::Configured);
    let services = east
        .objects("Service", None, Some("mc-demo"))
        .await
        .unwrap();
    assert_eq!(services[0]["spec"]["ports"][0]["port"], 9090);
    assert_eq!(services[0]["spec"]["selector"]["app"], "bb");
    let now = labels(&east).await;
    assert_eq!(now.get("app").map(String::as_str), Some("bb"));
    assert_eq!(now.get("team").map(String::as_str), Some("a"));

    // Apply dropping the selector removes it: labelling did not co-own it.
    let without_selector = changed.replace("  selector:\n    app: bb\n", "");
    east.apply(&without_selector, None).await.unwrap();
    let services = east
        .objects("Service", None, Some("mc-demo"))
        .await
        .unwrap();
    assert!(
        services[0]["spec"].get("selector").is_none(),
        "{}",
        services[0]
    );

    let invalid = east
        .label(&label_request(&[("bad key!", "x")], &[], false))
        .await
        .unwrap_err();
    assert_eq!(invalid.status().map(|s| s.as_u16()), Some(400));
    let missing = LabelRequest {
        name: "nope".into(),
        ..label_request(&[("a", "b")], &[], false)
    };
    let err = east.label(&missing).await.unwrap_err();
    assert_eq!(
        err.api_message(),
        Some(r#"services "nope" in mc-demo not found"#)
    );
}

#[tokio::test]
async fn lists_info_scrapes_and_clusters() {
    let (_stores, api) = start(&["east", "west"]).await;
    let east = api.client("east");
    east.apply(MANIFEST, None).await.unwrap();
    let all: Vec<Value> = east.objects("service", None, None).await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(
        east.objects("Service", None, Some("default"))
            .await
            .unwrap()
            .is_empty()
    );
    let deployments = east
        .objects("Deployment", Some("apps"), None)
        .await
        .unwrap();
    assert_eq!(deployments[0]["metadata"]["name"], "bb");

    let info = east.info().await.unwrap();
    assert_eq!(info.name, "east");
    assert_eq!(info.control_plane_namespace, "linkerd");
    let clusters = east.clusters().await.unwrap();
    let names: Vec<&str> = clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["east", "west"]);

    let scrapes = east.scrapes(Duration::from_secs(30)).await.unwrap();
    assert_eq!(scrapes[0].first.as_ref().unwrap().text, "window 30\n");
    assert_eq!(scrapes[0].deployment.as_deref(), Some("bb"));

    let nowhere = api.client("north");
    let err = nowhere.info().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(err.to_string().contains("no cluster \"north\""), "{err}");
}

#[tokio::test]
async fn a_stopped_server_is_reported_with_the_context_and_a_hint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let api = format!("http://{addr}");
    let token = ApiToken::generate().unwrap();
    let east = LocalClient::new("east", &api, token.clone()).unwrap();
    let err = east.info().await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!("context east ({api}): connection refused — is `strait local up` running?")
    );
    assert!(LocalClient::new("east", "localhost:1", token).is_err());
}
