//! Loopback clients: admitted where a pod's loopback is its own, and not
//! where every process of the machine shares it.

use serde_json::json;
use strait_decisions::authz::Decision;

use crate::config::IndexConfig;
use crate::fixtures::*;
use crate::index::Index;

fn bb_policy(config: IndexConfig) -> std::sync::Arc<crate::inbound::InboundPolicy> {
    let mut index = Index::new(config);
    index.apply_pod(&bb_pod("bb-1", json!({})));
    apply_guide(&mut index);
    match index.policy(NS, "bb-1", 8080) {
        Some(p) => p.policy,
        None => panic!("port 8080 is not tracked"),
    }
}

#[test]
fn linkerds_default_admits_the_pods_own_loopback() {
    let policy = bb_policy(IndexConfig::default());
    let local = decide(&policy, plain(), "127.0.0.1", "/");
    assert!(
        matches!(&local, Decision::Allow(r) if r.to_string() == "default/localhost"),
        "{local:?}"
    );
    let v6 = decide(&policy, plain(), "::1", "/");
    assert!(v6.is_allow(), "{v6:?}");
    // Only the pod's own loopback: other 127/8 addresses are other pods'
    // where pods get loopback addresses of their own.
    assert!(!decide(&policy, plain(), "127.1.0.7", "/").is_allow());
}

#[test]
fn without_loopback_networks_a_plaintext_client_from_127_0_0_1_is_refused() {
    let config = IndexConfig {
        loopback_networks: Vec::new(),
        ..IndexConfig::default()
    };
    let policy = bb_policy(config);
    let reported: Vec<String> = policy
        .authorizations
        .iter()
        .map(|a| a.reference.to_string())
        .collect();
    assert!(
        !reported.contains(&"default/localhost".to_string()),
        "{reported:?}"
    );
    for ip in ["127.0.0.1", "::1"] {
        let decision = decide(&policy, plain(), ip, "/");
        assert!(!decision.is_allow(), "{ip}: {decision:?}");
        let evil = decide(&policy, mtls(SLOW_COOKER_EVIL), ip, "/");
        assert!(!evil.is_allow(), "{ip}: {evil:?}");
    }
    // The policy itself still admits the identity it names.
    assert!(decide(&policy, mtls(SLOW_COOKER), "127.0.0.1", "/").is_allow());
}
