use serde_json::json;

use super::*;
use crate::testing::{refusal, round_trip};

#[test]
fn an_unauthenticated_authorization_by_server_name_round_trips() {
    let authz: ServerAuthorization = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1beta1",
        "kind": "ServerAuthorization",
        "metadata": {"name": "web-public", "namespace": "emojivoto"},
        "spec": {
            "server": {"name": "web-http"},
            "client": {
                "unauthenticated": true,
                "networks": [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]
            }
        }
    }));
    assert_eq!(authz.spec.server.name.as_deref(), Some("web-http"));
    assert_eq!(authz.spec.client.unauthenticated, Some(true));
    assert_eq!(authz.spec.client.mesh_tls, None);
}

#[test]
fn mesh_tls_clients_by_selector_round_trip_with_linkerds_casing() {
    // `meshTLS` and `unauthenticatedTLS` are not plain camelCase; a wrong
    // spelling would be dropped silently and authorize no one.
    let authz: ServerAuthorization = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1beta1",
        "kind": "ServerAuthorization",
        "metadata": {"name": "internal", "namespace": "emojivoto"},
        "spec": {
            "server": {"selector": {"matchLabels": {"emojivoto/api": "internal-grpc"}}},
            "client": {
                "meshTLS": {
                    "unauthenticatedTLS": false,
                    "identities": ["*.emojivoto.serviceaccount.identity.linkerd.cluster.local"],
                    "serviceAccounts": [{"name": "web"}, {"name": "prometheus", "namespace": "linkerd-viz"}]
                }
            }
        }
    }));
    let mesh_tls = authz.spec.client.mesh_tls.unwrap_or_default();
    assert_eq!(mesh_tls.unauthenticated_tls, Some(false));
    assert_eq!(
        mesh_tls.service_accounts,
        Some(vec![
            ServiceAccountRef {
                name: "web".into(),
                namespace: None
            },
            ServiceAccountRef {
                name: "prometheus".into(),
                namespace: Some("linkerd-viz".into())
            },
        ])
    );
    assert!(authz.spec.server.selector.is_some());
}

#[test]
fn unauthenticated_must_be_a_boolean() {
    let yaml = "apiVersion: policy.linkerd.io/v1beta1\nkind: ServerAuthorization\n\
                metadata: {name: a}\nspec:\n  server: {name: web}\n  \
                client: {unauthenticated: 'true'}\n";
    let err = refusal::<ServerAuthorization>(yaml);
    assert!(
        err.starts_with("spec.client.unauthenticated: invalid type: string"),
        "{err}"
    );
}
