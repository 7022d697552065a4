//! Reaching a cluster through a kubeconfig, as a Link's Secret holds it.

use strait_store::StoreError;

use crate::KubeStore;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: east
contexts:
- name: east
  context:
    cluster: east
    user: mirror
    namespace: mc-demo
clusters:
- name: east
  cluster:
    server: http://127.0.0.1:6443
users:
- name: mirror
  user:
    token: t0ken
"#;

/// The reason of an `Invalid` kubeconfig error.
fn invalid(yaml: &str) -> String {
    match KubeStore::from_kubeconfig_yaml(yaml) {
        Err(StoreError::Invalid { what, reason }) => {
            assert_eq!(what, "kubeconfig");
            reason
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn a_kubeconfig_selects_its_current_context() {
    let store = KubeStore::from_kubeconfig_yaml(KUBECONFIG).expect("a usable kubeconfig");
    assert_eq!(store.client().default_namespace(), "mc-demo");
}

#[tokio::test]
async fn errors_say_what_is_wrong_with_the_kubeconfig() {
    assert!(invalid("  \n").contains("empty"));
    assert!(invalid("clusters: [unclosed").contains("parse"));

    let no_context = KUBECONFIG.replace("current-context: east\n", "");
    assert!(invalid(&no_context).contains("current context"));

    let unknown_context = KUBECONFIG.replace("current-context: east", "current-context: west");
    let reason = invalid(&unknown_context);
    assert!(reason.contains("west"), "{reason}");

    let no_server = KUBECONFIG.replace("    server: http://127.0.0.1:6443\n", "    {}\n");
    let reason = invalid(&no_server);
    assert!(reason.contains("cluster url is missing"), "{reason}");
}

#[test]
fn outside_a_runtime_the_client_is_refused_rather_than_panicking() {
    assert!(matches!(
        KubeStore::from_kubeconfig_yaml(KUBECONFIG),
        Err(StoreError::Unavailable { .. })
    ));
}
