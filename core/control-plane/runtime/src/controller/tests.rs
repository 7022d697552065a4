use std::net::TcpListener;

use strait_plugin_distribution::{PluginKind, plugin_digest};
use strait_store::MemoryStore;

use super::*;
use crate::plugins::builtin_authz;

/// A loopback address nothing listens on now.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr")
}

#[test]
fn the_authz_plugin_offered_is_the_one_loaded() {
    let authz = AuthzOffer::load(builtin_authz()).expect("loads");
    let offered = authz.offer().current(PluginKind::Authz).expect("offered");
    assert_eq!(
        offered.digest,
        plugin_digest(strait_default_plugins::AUTHZ_DEFAULT)
    );
}

#[test]
fn an_authz_plugin_that_does_not_load_is_named() {
    let missing = std::env::temp_dir().join("strait-runtime-no-such-plugin.wasm");
    let err = AuthzOffer::load(PluginSource::File(&missing))
        .expect_err("no such file")
        .to_string();
    assert!(err.contains("strait-runtime-no-such-plugin.wasm"), "{err}");
}

#[tokio::test]
async fn a_taken_admin_address_is_named_before_anything_serves() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let admin_addr = taken.local_addr().expect("addr");
    let addr = free_addr();
    let result = policy(
        MemoryStore::new(),
        IndexConfig::default(),
        AuthzOffer::load(builtin_authz()).expect("loads"),
        &PluginsConfigMap::new("linkerd", ""),
        Serving {
            addr,
            admin_addr,
            tls: crate::tls::ControllerTls::Plaintext,
        },
        std::future::pending(),
    )
    .await;
    match result {
        Err(RuntimeError::Admin { addr, .. }) => assert_eq!(addr, admin_addr),
        other => panic!("expected the admin address to be refused: {other:?}"),
    }
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the services were not served"
    );
}

#[tokio::test]
async fn a_taken_service_address_is_an_error_and_the_admin_endpoint_stops() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr");
    let admin_addr = free_addr();
    let config = ClusterConfig::default();
    let result = destination(
        MemoryStore::new(),
        Destination {
            cluster: "local".into(),
            config,
            links_namespace: "linkerd-multicluster".into(),
        },
        |_: &Secret| -> Result<MemoryStore, StoreError> {
            Err(StoreError::NotFound {
                what: "no linked cluster here".into(),
            })
        },
        Serving {
            addr,
            admin_addr,
            tls: crate::tls::ControllerTls::Plaintext,
        },
        std::future::pending(),
    )
    .await;
    let err = result.expect_err("the address is taken").to_string();
    assert!(err.contains(&addr.to_string()), "{err}");
    // The admin endpoint it had bound is gone with it.
    for _ in 0..50 {
        if std::net::TcpStream::connect(admin_addr).is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the admin endpoint still serves on {admin_addr}");
}
