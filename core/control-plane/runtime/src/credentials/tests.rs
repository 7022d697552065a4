use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::link::LinkSpec;
use strait_store::MemoryStore;

use super::*;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
clusters:
- name: east
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
contexts:
- name: east
  context:
    cluster: east
    user: mirror
current-context: east
users:
- name: mirror
  user:
    token: not-a-real-token
"#;

fn link(secret: Option<&str>) -> Link {
    let mut link = Link::new(
        "east",
        LinkSpec {
            target_cluster_name: Some("east".into()),
            cluster_credentials_secret: secret.map(str::to_string),
            ..Default::default()
        },
    );
    link.metadata.namespace = Some("linkerd".into());
    link
}

async fn store_with_secret(data: Option<&[u8]>) -> MemoryStore {
    let store = MemoryStore::new();
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some("linkerd".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    store.apply(&ns, "test").await.unwrap();
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-east".into()),
            namespace: Some("linkerd".into()),
            ..Default::default()
        },
        type_: Some("mirror.linkerd.io/remote-kubeconfig".into()),
        data: data.map(|d| BTreeMap::from([(KUBECONFIG_KEY.to_string(), ByteString(d.to_vec()))])),
        ..Default::default()
    };
    store.apply(&secret, "test").await.unwrap();
    store
}

async fn remote(store: &MemoryStore, link: Link) -> Result<KubeStore, StoreError> {
    connect_link(store.clone(), store_from_credentials)(link).await
}

#[tokio::test]
async fn the_target_is_reached_through_the_links_credentials_secret() {
    let store = store_with_secret(Some(KUBECONFIG.as_bytes())).await;
    let reached = remote(&store, link(Some("cluster-credentials-east"))).await;
    assert!(reached.is_ok(), "{:?}", reached.err());
}

#[tokio::test]
async fn credential_faults_name_the_link_and_the_secret() {
    let store = store_with_secret(Some(KUBECONFIG.as_bytes())).await;
    let err = remote(&store, link(None)).await.unwrap_err().to_string();
    assert!(
        err.contains("linkerd/east") && err.contains("clusterCredentialsSecret"),
        "{err}"
    );
    let err = remote(&store, link(Some("missing")))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(r#"secrets "missing" in linkerd"#), "{err}");
    let empty = store_with_secret(None).await;
    let err = remote(&empty, link(Some("cluster-credentials-east")))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no `kubeconfig` key"), "{err}");
    let garbage = store_with_secret(Some(b"clusters: [this is not a kubeconfig")).await;
    let err = remote(&garbage, link(Some("cluster-credentials-east")))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("kubeconfig"), "{err}");
}

#[tokio::test]
async fn the_secret_found_is_what_reach_turns_into_a_store() {
    // An embedded cluster is reached by what its Secret names, not through
    // a kubeconfig: `reach` sees the Link's own Secret.
    let store = store_with_secret(Some(b"not read here")).await;
    let east = MemoryStore::new();
    let target = east.clone();
    let connect = connect_link(store.clone(), move |secret: &Secret| {
        match secret.metadata.name.as_deref() {
            Some("cluster-credentials-east") => Ok(target.clone()),
            other => Err(StoreError::NotFound {
                what: format!("{other:?}"),
            }),
        }
    });
    assert!(
        connect(link(Some("cluster-credentials-east")))
            .await
            .is_ok()
    );
    let err = connect(link(Some("missing"))).await.unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[tokio::test]
async fn the_destination_reaches_each_secret_as_given() {
    let store = store_with_secret(Some(KUBECONFIG.as_bytes())).await;
    let secret: Secret = store
        .get("linkerd", "cluster-credentials-east")
        .await
        .unwrap()
        .expect("stored");
    assert!(connect_secret(store_from_credentials)(secret).await.is_ok());
    let err = connect_secret(store_from_credentials)(Secret::default())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no `kubeconfig` key"), "{err}");
}

#[tokio::test]
async fn a_refused_kubeconfig_names_the_secret_and_the_field() {
    let exec = KUBECONFIG.replace(
        "    token: not-a-real-token\n",
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n",
    );
    assert_ne!(exec, KUBECONFIG);
    let store = store_with_secret(Some(exec.as_bytes())).await;
    match remote(&store, link(Some("cluster-credentials-east"))).await {
        Err(StoreError::Invalid { what, reason }) => {
            assert_eq!(
                what,
                "kubeconfig of credentials secret linkerd/cluster-credentials-east"
            );
            assert!(
                reason.starts_with("users[0].user.exec is not allowed"),
                "{reason}"
            );
        }
        other => panic!("expected Invalid, got {:?}", other.map(|_| "a store")),
    }
}
