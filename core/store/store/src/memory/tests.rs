use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Namespace, Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;

use super::*;

fn service(ns: &str, name: &str, labels: &[(&str, &str)]) -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(name.into()),
            namespace: Some(ns.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: 8080,
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn namespace(name: &str) -> Namespace {
    Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

async fn store_with_ns(ns: &str) -> MemoryStore {
    let store = MemoryStore::new();
    store.apply(&namespace(ns), "test").await.unwrap();
    store
}

fn rv<K: kube::core::Resource>(k: &K) -> u64 {
    k.meta()
        .resource_version
        .as_deref()
        .unwrap_or("0")
        .parse()
        .unwrap()
}

async fn next<K>(watch: &mut BoxStream<'static, Result<Event<K>, StoreError>>) -> Event<K> {
    tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("an event within 5s")
        .expect("the watch goes on")
        .expect("no error")
}

fn names(event: &Event<Service>) -> (&'static str, Vec<String>) {
    match event {
        Event::Apply(s) => ("apply", vec![s.metadata.name.clone().unwrap_or_default()]),
        Event::Delete(s) => ("delete", vec![s.metadata.name.clone().unwrap_or_default()]),
        Event::Reset(all) => (
            "reset",
            all.iter()
                .map(|s| s.metadata.name.clone().unwrap_or_default())
                .collect(),
        ),
    }
}

#[tokio::test]
async fn apply_assigns_server_fields_and_a_no_op_apply_changes_nothing() {
    let store = store_with_ns("mc-demo").await;
    let created = store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.is_some() && meta.creation_timestamp.is_some());
    assert_eq!(meta.generation, Some(1));
    let again = store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    assert_eq!(
        rv(&again),
        rv(&created),
        "a no-op apply keeps the resourceVersion"
    );
    let relabelled = store
        .apply(&service("mc-demo", "bb", &[("a", "b")]), "test")
        .await
        .unwrap();
    assert!(rv(&relabelled) > rv(&created));
    assert_eq!(
        relabelled.metadata.generation,
        Some(1),
        "labels are not spec"
    );
    assert_eq!(store.write_count(), 4);
}

#[tokio::test]
async fn a_namespaced_object_needs_its_namespace() {
    let store = MemoryStore::new();
    let err = store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), r#"namespaces "mc-demo" not found"#);
    store.apply(&namespace("mc-demo"), "test").await.unwrap();
    store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    assert!(
        store
            .get::<Service>("default", "bb")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn services_get_a_cluster_ip_that_stays() {
    let store = store_with_ns("mc-demo").await;
    let bb = store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    let ip = bb.spec.as_ref().and_then(|s| s.cluster_ip.clone()).unwrap();
    assert!(ip.starts_with("10.9"), "{ip}");
    let updated = store
        .apply(&service("mc-demo", "bb", &[("x", "y")]), "other")
        .await
        .unwrap();
    assert_eq!(updated.spec.unwrap().cluster_ip, Some(ip.clone()));
    let other = store
        .apply(&service("mc-demo", "web", &[]), "test")
        .await
        .unwrap();
    assert_ne!(other.spec.unwrap().cluster_ip, Some(ip.clone()));
    let mut moved = service("mc-demo", "bb", &[]);
    moved.spec.as_mut().unwrap().cluster_ip = Some("10.96.99.99".into());
    let err = store.apply(&moved, "test").await.unwrap_err();
    assert!(
        err.to_string()
            .contains("spec.clusterIP: field is immutable"),
        "{err}"
    );
    let mut headless = service("mc-demo", "db", &[]);
    headless.spec.as_mut().unwrap().cluster_ip = Some("None".into());
    let db = store.apply(&headless, "test").await.unwrap();
    assert_eq!(db.spec.unwrap().cluster_ip.as_deref(), Some("None"));
}

#[tokio::test]
async fn server_side_apply_removes_only_the_managers_own_fields() {
    let store = store_with_ns("mc-demo").await;
    store
        .apply(
            &service("mc-demo", "bb", &[("mine", "1"), ("gone", "2")]),
            "mirror",
        )
        .await
        .unwrap();
    store
        .apply(&service("mc-demo", "bb", &[("theirs", "3")]), "kubectl")
        .await
        .unwrap();
    let bb = store
        .apply(&service("mc-demo", "bb", &[("mine", "1")]), "mirror")
        .await
        .unwrap();
    let labels = bb.metadata.labels.unwrap();
    assert_eq!(
        labels,
        BTreeMap::from([
            ("mine".to_string(), "1".to_string()),
            ("theirs".to_string(), "3".to_string())
        ])
    );
}

#[tokio::test]
async fn a_resource_version_in_an_apply_is_a_precondition() {
    let store = store_with_ns("mc-demo").await;
    let first = store
        .apply(&service("mc-demo", "bb", &[("v", "1")]), "a")
        .await
        .unwrap();
    // Two writers read the same version; the first write wins...
    let mut one = service("mc-demo", "bb", &[("v", "2")]);
    one.metadata.resource_version = first.metadata.resource_version.clone();
    let mut two = service("mc-demo", "bb", &[("v", "3")]);
    two.metadata.resource_version = first.metadata.resource_version.clone();
    let won = store.apply(&one, "a").await.unwrap();
    assert!(rv(&won) > rv(&first));
    // ...and the second, now stale, is refused and changes nothing.
    let writes = store.revision();
    let err = store.apply(&two, "b").await.unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err:?}");
    assert!(
        err.to_string().contains(r#"services "bb" in mc-demo"#),
        "{err}"
    );
    assert!(err.to_string().contains("has been modified"), "{err}");
    assert_eq!(store.revision(), writes);
    let stored = store
        .get::<Service>("mc-demo", "bb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.metadata.labels.unwrap()["v"], "2");
    // A stale version is refused even when the write would change nothing.
    let mut same = service("mc-demo", "bb", &[("v", "2")]);
    same.metadata.resource_version = first.metadata.resource_version.clone();
    assert!(matches!(
        store.apply(&same, "a").await,
        Err(StoreError::Conflict { .. })
    ));
    // The current version goes through; no version at all is unconditional.
    let mut current = service("mc-demo", "bb", &[("v", "4")]);
    current.metadata.resource_version = won.metadata.resource_version.clone();
    store.apply(&current, "a").await.unwrap();
    store
        .apply(&service("mc-demo", "bb", &[("v", "5")]), "a")
        .await
        .unwrap();
    // An object that does not exist yet is created, as the API server does.
    let mut new = service("mc-demo", "web", &[]);
    new.metadata.resource_version = Some("12345".into());
    let created = store.apply(&new, "a").await.unwrap();
    assert_ne!(created.metadata.resource_version.as_deref(), Some("12345"));
}

#[tokio::test]
async fn watches_start_with_a_reset_then_follow_changes() {
    let store = store_with_ns("mc-demo").await;
    store
        .apply(&service("mc-demo", "a", &[]), "test")
        .await
        .unwrap();
    let mut watch = store.watch::<Service>(WatchParams::all());
    assert_eq!(
        names(&next(&mut watch).await),
        ("reset", vec!["a".to_string()])
    );
    store
        .apply(&service("mc-demo", "b", &[]), "test")
        .await
        .unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("apply", vec!["b".to_string()])
    );
    store.delete::<Service>("mc-demo", "a").await.unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("delete", vec!["a".to_string()])
    );
    let err = store.delete::<Service>("mc-demo", "a").await.unwrap_err();
    assert_eq!(err.to_string(), r#"services "a" in mc-demo not found"#);
}

#[tokio::test]
async fn label_selected_watches_see_objects_enter_and_leave() {
    let store = store_with_ns("mc-demo").await;
    let mut watch = store.watch::<Service>(WatchParams::labelled(
        "mirror.linkerd.io/exported",
        "remote-discovery",
    ));
    assert_eq!(names(&next(&mut watch).await), ("reset", vec![]));
    store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    store
        .apply(
            &service(
                "mc-demo",
                "bb",
                &[("mirror.linkerd.io/exported", "remote-discovery")],
            ),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("apply", vec!["bb".to_string()]),
        "entering the selection"
    );
    store
        .apply(
            &service("mc-demo", "bb", &[("mirror.linkerd.io/exported", "true")]),
            "test",
        )
        .await
        .unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("delete", vec!["bb".to_string()]),
        "leaving it"
    );
}

#[tokio::test]
async fn namespace_scoped_watches_see_only_their_namespace() {
    let store = store_with_ns("a").await;
    store.apply(&namespace("b"), "test").await.unwrap();
    let mut watch = store.watch::<Service>(WatchParams {
        namespace: Some("b".into()),
        ..WatchParams::all()
    });
    next(&mut watch).await;
    store.apply(&service("a", "x", &[]), "test").await.unwrap();
    store.apply(&service("b", "y", &[]), "test").await.unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("apply", vec!["y".to_string()])
    );
}

#[tokio::test]
async fn a_watcher_that_falls_behind_gets_a_fresh_reset_and_loses_nothing() {
    let store = store_with_ns("mc-demo").await;
    let mut watch = store.watch::<Service>(WatchParams::all());
    next(&mut watch).await;
    for i in 0..(WATCH_BUFFER + 10) {
        store
            .apply(&service("mc-demo", &format!("s{i}"), &[]), "test")
            .await
            .unwrap();
    }
    let event = next(&mut watch).await;
    let ("reset", all) = names(&event) else {
        panic!("expected a reset, got {:?}", names(&event).0);
    };
    assert_eq!(all.len(), WATCH_BUFFER + 10);
    store
        .apply(&service("mc-demo", "after", &[]), "test")
        .await
        .unwrap();
    let (kind, objects) = names(&next(&mut watch).await);
    assert_eq!((kind, objects.len()), ("apply", 1), "then changes again");
    assert_eq!(objects[0], "after");
}

#[tokio::test]
async fn a_malformed_object_is_skipped_without_ending_the_watch() {
    let store = store_with_ns("mc-demo").await;
    let mut watch = store.watch::<Service>(WatchParams::all());
    next(&mut watch).await;
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "bad", "namespace": "mc-demo"},
                   "spec": {"ports": "not-a-list"}}),
            "test",
        )
        .unwrap();
    store
        .apply(&service("mc-demo", "good", &[]), "test")
        .await
        .unwrap();
    assert_eq!(
        names(&next(&mut watch).await),
        ("apply", vec!["good".to_string()])
    );
    let err = store.get::<Service>("mc-demo", "bad").await.unwrap_err();
    assert!(
        err.to_string().contains(r#"Service "bad" in mc-demo"#),
        "{err}"
    );
}

#[tokio::test]
async fn status_is_patched_without_touching_the_rest() {
    let store = store_with_ns("mc-demo").await;
    let created = store
        .apply(&service("mc-demo", "bb", &[("a", "b")]), "test")
        .await
        .unwrap();
    let patched: Service = store
        .patch_status(
            "mc-demo",
            "bb",
            json!({"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}),
        )
        .await
        .unwrap();
    assert!(rv(&patched) > rv(&created));
    assert_eq!(patched.metadata.labels, created.metadata.labels);
    let ingress = patched
        .status
        .unwrap()
        .load_balancer
        .unwrap()
        .ingress
        .unwrap();
    assert_eq!(ingress[0].ip.as_deref(), Some("1.2.3.4"));
    let kept = store
        .apply(&service("mc-demo", "bb", &[("a", "b")]), "test")
        .await
        .unwrap();
    assert!(kept.status.is_some(), "apply leaves status alone");
    let err = store
        .patch_status::<Service>("mc-demo", "nope", json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotFound { .. }));
}

#[tokio::test]
async fn deleting_a_namespace_deletes_its_objects() {
    let store = store_with_ns("mc-demo").await;
    store
        .apply(&service("mc-demo", "bb", &[]), "test")
        .await
        .unwrap();
    store.delete::<Namespace>("", "mc-demo").await.unwrap();
    assert!(
        store
            .get::<Service>("mc-demo", "bb")
            .await
            .unwrap()
            .is_none()
    );
}

const GUIDE: &str = r#"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: bb
  namespace: mc-demo
spec:
  replicas: 1
  selector:
    matchLabels:
      app: bb
  template:
    metadata:
      labels:
        app: bb
    spec:
      containers:
      - name: terminus
        image: buoyantio/bb:v0.0.6
        args:
        - terminus
        - "--h1-server-port=8080"
        - "--response-text=hello\n"
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: bb
  namespace: mc-demo
spec:
  ports:
  - name: http
    port: 8080
    targetPort: 8080
  selector:
    app: bb
---
apiVersion: v1
kind: Namespace
metadata:
  name: mc-demo
"#;

#[tokio::test]
async fn the_guides_manifests_load_verbatim_and_survive_a_restart() {
    let dir = std::env::temp_dir().join(format!("strait-store-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bb.yaml"), GUIDE).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  namespace: nowhere\n---\n: : :\n",
    )
    .unwrap();
    let store = MemoryStore::new();
    let report = store.load_dir(&dir, "strait-local").unwrap();
    assert_eq!(report.applied, 3, "{report}");
    assert_eq!(report.errors.len(), 2, "{report}");
    assert!(
        report.errors[0].contains(r#"broken.yaml document 2: invalid YAML"#),
        "{report}"
    );
    assert!(
        report.errors[1].contains(r#"broken.yaml document 1: namespaces "nowhere" not found"#),
        "{report}"
    );
    let bb = store
        .get::<Service>("mc-demo", "bb")
        .await
        .unwrap()
        .unwrap();
    store
        .patch_status::<Service>("mc-demo", "bb", json!({"loadBalancer": {}}))
        .await
        .unwrap();
    store.save_dir(&dir).unwrap();

    let restarted = MemoryStore::new();
    restarted.load_dir(&dir, "strait-local").unwrap();
    let again = restarted
        .get::<Service>("mc-demo", "bb")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.spec.unwrap().cluster_ip, bb.spec.unwrap().cluster_ip);
    assert!(again.status.is_some(), "status survives");
    assert_eq!(again.metadata.uid, bb.metadata.uid);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A store that knows MeshTLSAuthentication's definition, as `strait local`
/// registers strait's.
fn store_with_meshtls_definition() -> MemoryStore {
    let store = MemoryStore::new();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "meshtlsauthentications.policy.linkerd.io"},
        "spec": {
            "group": "policy.linkerd.io",
            "names": {"kind": "MeshTLSAuthentication", "plural": "meshtlsauthentications"},
            "scope": "Namespaced",
            "versions": [{"name": "v1alpha1", "served": true, "storage": true, "schema": {
                "openAPIV3Schema": {"type": "object", "required": ["spec"], "properties": {
                    "spec": {"type": "object",
                        "oneOf": [{"required": ["identities"]}, {"required": ["identityRefs"]}],
                        "properties": {
                            "identities": {"type": "array", "nullable": true, "minItems": 1,
                                "items": {"type": "string"}},
                            "identityRefs": {"type": "array", "nullable": true, "minItems": 1,
                                "items": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
                        }}
                }}
            }}]
        }
    });
    let definition = serde_json::from_value(crd).unwrap();
    store.register_definition(&definition).unwrap();
    store
        .apply_json(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "mc-demo"}}),
            "test",
        )
        .unwrap();
    store
}

fn meshtls_object(name: &str, identities: Value) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "MeshTLSAuthentication",
        "metadata": {"name": name, "namespace": "mc-demo"},
        "spec": {"identities": identities}
    })
}

#[test]
fn a_custom_resource_breaking_its_schema_is_refused_as_the_api_server_refuses_it() {
    let store = store_with_meshtls_definition();
    let before = store.revision();
    let err = store
        .apply_json(meshtls_object("nobody", json!([])), "kubectl")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid: spec.identities: \
         Invalid value: 0: spec.identities in body should have at least 1 items"
    );
    assert!(matches!(err, StoreError::Rejected { .. }), "{err:?}");
    assert_eq!(store.revision(), before, "nothing was stored");
    store
        .apply_json(meshtls_object("good", json!(["a.b"])), "kubectl")
        .unwrap();
    // An update that breaks the schema leaves the object as it was.
    let err = store
        .apply_json(meshtls_object("good", json!("a.b")), "kubectl")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("spec.identities: Invalid value: \"string\""),
        "{err}"
    );
    let kept = store
        .objects()
        .into_iter()
        .find(|(_, o)| o["metadata"]["name"] == "good")
        .unwrap();
    assert_eq!(kept.1["spec"]["identities"], json!(["a.b"]));
    // A version the definition does not serve is refused too.
    let mut other = meshtls_object("other", json!(["a.b"]));
    other["apiVersion"] = json!("policy.linkerd.io/v9");
    let err = store.apply_json(other, "kubectl").unwrap_err();
    assert!(err.to_string().contains("no matches for kind"), "{err}");
}

/// A typed MeshTLSAuthentication, as controllers write custom resources.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct MeshTls {
    api_version: String,
    kind: String,
    metadata: ObjectMeta,
    spec: Value,
}

impl kube::core::Resource for MeshTls {
    type DynamicType = ();
    type Scope = k8s_openapi::NamespaceResourceScope;
    fn kind(_: &()) -> std::borrow::Cow<'_, str> {
        "MeshTLSAuthentication".into()
    }
    fn group(_: &()) -> std::borrow::Cow<'_, str> {
        "policy.linkerd.io".into()
    }
    fn version(_: &()) -> std::borrow::Cow<'_, str> {
        "v1alpha1".into()
    }
    fn plural(_: &()) -> std::borrow::Cow<'_, str> {
        "meshtlsauthentications".into()
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[tokio::test]
async fn a_typed_write_is_checked_too() {
    let store = store_with_meshtls_definition();
    let object: MeshTls = serde_json::from_value(meshtls_object("nobody", json!([]))).unwrap();
    let err = store.apply(&object, "controller").await.unwrap_err();
    assert!(matches!(err, StoreError::Rejected { .. }), "{err:?}");
    let good: MeshTls = serde_json::from_value(meshtls_object("good", json!(["a"]))).unwrap();
    store.apply(&good, "controller").await.unwrap();
}

#[test]
fn a_bad_document_in_a_file_is_reported_and_skipped_and_the_rest_loads() {
    let store = store_with_meshtls_definition();
    let text = "apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\n\
                metadata:\n  name: nobody\n  namespace: mc-demo\nspec:\n  identities: []\n\
                ---\n\
                apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\n\
                metadata:\n  name: good\n  namespace: mc-demo\nspec:\n  identities: [a.b]\n";
    let report = store.apply_yaml("policy.yaml", text, "test");
    assert_eq!(report.applied, 1);
    assert_eq!(
        report.errors,
        [
            "policy.yaml document 1: MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid: \
          spec.identities: Invalid value: 0: spec.identities in body should have at least 1 items"
        ]
    );
}

#[test]
fn applying_a_definition_makes_the_store_check_its_kind() {
    let store = MemoryStore::new();
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgetz"},
            "scope": "Cluster",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {
                "openAPIV3Schema": {"type": "object", "properties": {
                    "spec": {"type": "object", "required": ["size"],
                        "properties": {"size": {"type": "integer", "minimum": 1}}}
                }}
            }}]
        }
    });
    store.apply_json(crd, "kubectl").unwrap();
    let widget = |size: Value| {
        json!({"apiVersion": "example.com/v1", "kind": "Widget",
               "metadata": {"name": "w", "namespace": "ignored"}, "spec": {"size": size}})
    };
    let err = store.apply_json(widget(json!(0)), "kubectl").unwrap_err();
    assert_eq!(
        err.to_string(),
        "Widget.example.com \"w\" is invalid: spec.size: Invalid value: 0: spec.size in body \
         should be greater than or equal to 1"
    );
    // The definition's plural and scope are the kind's.
    store.apply_json(widget(json!(2)), "kubectl").unwrap();
    let (kind, stored) = store
        .objects()
        .into_iter()
        .find(|(k, _)| k.kind == "Widget")
        .unwrap();
    assert_eq!(kind.plural, "widgetz");
    assert!(!kind.namespaced);
    assert!(stored["metadata"].get("namespace").is_none());
}

#[tokio::test]
async fn a_store_without_definitions_checks_nothing() {
    let store = store_with_ns("mc-demo").await;
    store
        .apply_json(meshtls_object("nobody", json!([])), "kubectl")
        .unwrap();
}
