use serde_json::json;

use super::*;

fn kind(group: &str, name: &str) -> StoredKind {
    crate::memory::kinds::kind_of(
        &if group.is_empty() {
            "v1".to_string()
        } else {
            format!("{group}/v1")
        },
        name,
    )
}

#[test]
fn a_stateful_set_gets_the_api_servers_defaults() {
    let mut set = json!({"spec": {"serviceName": "web"}});
    apply(&kind("apps", "StatefulSet"), &mut set);
    assert_eq!(
        set["spec"],
        json!({
            "serviceName": "web",
            "replicas": 1,
            "podManagementPolicy": "OrderedReady",
            "revisionHistoryLimit": 10,
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        })
    );
}

#[test]
fn what_a_stateful_set_sets_is_kept() {
    let mut set = json!({"spec": {
        "replicas": 3,
        "podManagementPolicy": "Parallel",
        "updateStrategy": {"type": "OnDelete"},
    }});
    apply(&kind("apps", "StatefulSet"), &mut set);
    assert_eq!(set["spec"]["replicas"], json!(3));
    assert_eq!(set["spec"]["podManagementPolicy"], json!("Parallel"));
    assert_eq!(set["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
}

#[test]
fn other_kinds_are_left_alone() {
    let mut deployment = json!({"spec": {}});
    apply(&kind("apps", "Deployment"), &mut deployment);
    assert_eq!(deployment, json!({"spec": {}}));
}
