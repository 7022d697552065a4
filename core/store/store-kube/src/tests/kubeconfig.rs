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

/// The attack: a Link Secret whose kubeconfig runs a command in the
/// controller's pod, or sends the pod's own ServiceAccount token (which
/// can read the issuer's key) to a server of the writer's choosing.
#[tokio::test]
async fn credentials_that_run_commands_or_read_files_are_refused_by_field() {
    let user = "  user:\n    token: t0ken\n";
    for (replacement, field) in [
        (
            "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [\"-c\", \"exit 1\"]\n",
            "users[0].user.exec",
        ),
        (
            "  user:\n    auth-provider:\n      name: gcp\n      config: {cmd-path: /bin/sh}\n",
            "users[0].user.auth-provider",
        ),
        (
            "  user:\n    tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token\n",
            "users[0].user.tokenFile",
        ),
        (
            "  user:\n    client-certificate: /etc/cert.pem\n    client-key: /etc/key.pem\n",
            "users[0].user.client-certificate",
        ),
        (
            "  user:\n    client-key: /etc/key.pem\n",
            "users[0].user.client-key",
        ),
    ] {
        let yaml = KUBECONFIG.replace(user, replacement);
        assert_ne!(yaml, KUBECONFIG);
        let reason = invalid(&yaml);
        assert!(reason.contains(field), "{field}: {reason}");
        assert!(reason.contains("inline"), "{reason}");
    }
    let ca_file = KUBECONFIG.replace(
        "    server: http://127.0.0.1:6443\n",
        "    server: https://127.0.0.1:6443\n    certificate-authority: /etc/ca.pem\n",
    );
    let reason = invalid(&ca_file);
    assert!(
        reason.contains("clusters[0].cluster.certificate-authority"),
        "{reason}"
    );
}

/// The field is named by its position, whatever the entries are called: the
/// path is the same for every kubeconfig, and a name chosen by whoever wrote
/// the Secret never reaches the error (nor the Event that repeats it).
#[tokio::test]
async fn the_refused_field_is_named_by_position() {
    let yaml = KUBECONFIG.replace(
        "users:\n",
        "users:\n- name: \"spoofed] or [anything\"\n  user:\n    token: t0ken\n",
    ) + "- name: runner\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n";
    let reason = invalid(&yaml);
    assert!(
        reason.starts_with("users[2].user.exec is not allowed"),
        "{reason}"
    );
    assert!(
        !reason.contains("runner") && !reason.contains("spoofed"),
        "{reason}"
    );
}
