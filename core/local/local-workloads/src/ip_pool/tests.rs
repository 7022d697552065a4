use std::net::IpAddr;

use super::IpPool;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn hands_out_addresses_in_order_and_never_127_0_0_1() {
    let pool = IpPool::new();
    assert_eq!(pool.allocate(), Some(ip("127.1.0.1")));
    assert_eq!(pool.allocate(), Some(ip("127.1.0.2")));
    let shared = pool.clone();
    assert_eq!(shared.allocate(), Some(ip("127.1.0.3")));
    assert_eq!(pool.in_use(), 3);
}

#[test]
fn released_addresses_come_back_only_after_the_rest() {
    let pool = IpPool::new();
    let first = pool.allocate().unwrap();
    assert!(pool.is_allocated(first));
    pool.release(first);
    assert!(!pool.is_allocated(first));
    assert_eq!(pool.in_use(), 0);
    assert_eq!(pool.allocate(), Some(ip("127.1.0.2")));
    pool.release(ip("10.0.0.1"));
    assert_eq!(pool.in_use(), 1);
}

#[test]
fn skips_network_and_broadcast_looking_addresses() {
    let pool = IpPool::new();
    let all: Vec<IpAddr> = (0..300).map(|_| pool.allocate().unwrap()).collect();
    assert!(!all.contains(&ip("127.1.0.255")));
    assert!(!all.contains(&ip("127.1.1.0")));
    assert!(all.contains(&ip("127.1.1.1")));
}

#[test]
fn an_exhausted_pool_says_so_and_recovers() {
    let pool = IpPool::new();
    let mut last = None;
    while let Some(ip) = pool.allocate() {
        last = Some(ip);
    }
    assert_eq!(last, Some(ip("127.1.255.254")));
    assert_eq!(pool.allocate(), None);
    pool.release(ip("127.1.7.7"));
    assert_eq!(pool.allocate(), Some(ip("127.1.7.7")));
}

#[test]
fn a_stable_address_depends_on_its_key_alone() {
    let pool = IpPool::new();
    pool.allocate().unwrap();
    let east = pool.allocate_stable("east/linkerd-multicluster/linkerd-gateway");
    let west = pool.allocate_stable("west/linkerd-multicluster/linkerd-gateway");
    assert_ne!(east, west);
    // A fresh pool, other Pods first: the same addresses.
    let again = IpPool::new();
    again.allocate_stable("west/linkerd-multicluster/linkerd-gateway");
    for _ in 0..10 {
        again.allocate().unwrap();
    }
    assert_eq!(
        again.allocate_stable("east/linkerd-multicluster/linkerd-gateway"),
        east
    );
    let east = east.unwrap();
    assert!(east.to_string().starts_with("127.1.255."), "{east}");
    // Taken, the key gets another; released, it gets its own again.
    let second = pool.allocate_stable("east/linkerd-multicluster/linkerd-gateway");
    assert!(second.is_some() && second != Some(east));
    pool.release(east);
    assert_eq!(
        pool.allocate_stable("east/linkerd-multicluster/linkerd-gateway"),
        Some(east)
    );
}

#[test]
fn a_named_address_depends_on_the_name_alone_and_is_no_gateways() {
    let pool = IpPool::new();
    let web_0 = pool.allocate_named("east/mc-demo/web-0").unwrap();
    let web_1 = pool.allocate_named("east/mc-demo/web-1").unwrap();
    assert_ne!(web_0, web_1);
    for named in [web_0, web_1] {
        let octets = match named {
            IpAddr::V4(v4) => v4.octets(),
            IpAddr::V6(_) => panic!("{named}"),
        };
        assert!((192..=254).contains(&octets[2]), "{named}");
        assert!(octets[3] != 0 && octets[3] != 255, "{named}");
    }
    // Released and asked again, in another pool too: the same address.
    pool.release(web_0);
    assert_eq!(pool.allocate_named("east/mc-demo/web-0"), Some(web_0));
    let again = IpPool::new();
    for _ in 0..10 {
        again.allocate().unwrap();
    }
    assert_eq!(again.allocate_named("east/mc-demo/web-0"), Some(web_0));
    // Taken, the name gets another.
    let second = pool.allocate_named("east/mc-demo/web-0");
    assert!(second.is_some() && second != Some(web_0));
}
