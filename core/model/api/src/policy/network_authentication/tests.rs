use serde_json::json;

use super::*;
use crate::testing::{refusal, round_trip};

#[test]
fn networks_with_exceptions_round_trip() {
    let authn: NetworkAuthentication = round_trip(&json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "NetworkAuthentication",
        "metadata": {"name": "cluster-network", "namespace": "mc-demo"},
        "spec": {
            "networks": [
                {"cidr": "10.0.0.0/8", "except": ["10.0.9.0/24", "10.0.10.1"]},
                {"cidr": "fd00::/8"}
            ]
        }
    }));
    assert_eq!(
        authn.spec.networks,
        vec![
            Network {
                cidr: "10.0.0.0/8".into(),
                except: Some(vec!["10.0.9.0/24".into(), "10.0.10.1".into()]),
            },
            Network {
                cidr: "fd00::/8".into(),
                except: None
            },
        ]
    );
}

#[test]
fn a_network_needs_a_cidr() {
    let yaml = "apiVersion: policy.linkerd.io/v1alpha1\nkind: NetworkAuthentication\n\
                metadata: {name: n}\nspec:\n  networks:\n  - except: [10.0.0.1]\n";
    let err = refusal::<NetworkAuthentication>(yaml);
    assert!(
        err.starts_with("spec.networks[0]: missing field `cidr`"),
        "{err}"
    );
}
