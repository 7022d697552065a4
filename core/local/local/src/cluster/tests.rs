use strait_policy::IndexConfig;

use super::index_config;

#[test]
fn no_loopback_address_is_admitted_around_the_policy() {
    // Pods share the machine's loopback: 127.0.0.1 is any process on it.
    let config = index_config();
    assert!(config.loopback_networks.is_empty());
    assert!(!IndexConfig::default().loopback_networks.is_empty());
    // Everything else is Linkerd's default.
    assert_eq!(
        IndexConfig {
            loopback_networks: IndexConfig::default().loopback_networks,
            ..config
        },
        IndexConfig::default()
    );
}
