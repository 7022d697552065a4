use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;
use strait_store::Reachability;

fn secret(kubeconfig: Option<&str>, label: Option<&str>) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-target".into()),
            namespace: Some("linkerd".into()),
            labels: label.map(|l| BTreeMap::from([(CLUSTER_NAME.to_string(), l.to_string())])),
            ..ObjectMeta::default()
        },
        data: kubeconfig.map(|k| {
            BTreeMap::from([(
                KUBECONFIG_KEY.to_string(),
                ByteString(k.as_bytes().to_vec()),
            )])
        }),
        ..Secret::default()
    }
}

fn clusters() -> Clusters {
    Arc::new(BTreeMap::from([
        (
            "east".to_string(),
            Reachable::new(MemoryStore::new(), Reachability::new()),
        ),
        (
            "west".to_string(),
            Reachable::new(MemoryStore::new(), Reachability::new()),
        ),
    ]))
}

const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: target\n  cluster:\n    server: strait-local://east\n";

#[test]
fn the_kubeconfig_server_names_the_cluster_not_the_link_name() {
    // link-gen --cluster-name=target against east: the label says
    // "target", the kubeconfig says east.
    assert!(cluster_of_secret(&secret(Some(KUBECONFIG), Some("target")), &clusters()).is_ok());
    let err = cluster_of_secret(&secret(None, Some("target")), &clusters()).unwrap_err();
    assert!(err.to_string().contains("\"target\""), "{err}");
    assert!(err.to_string().contains("east, west"), "{err}");
    assert!(cluster_of_secret(&secret(None, Some("west")), &clusters()).is_ok());
    let err = cluster_of_secret(&secret(Some("not: [yaml"), None), &clusters()).unwrap_err();
    assert!(
        err.to_string()
            .contains("linkerd/cluster-credentials-target"),
        "{err}"
    );
}
