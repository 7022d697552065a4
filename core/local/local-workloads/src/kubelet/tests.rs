use std::net::{IpAddr, SocketAddr, TcpListener};

use super::free_address;
use crate::IpPool;

#[test]
fn an_address_whose_port_another_process_holds_is_passed_over() {
    let pool = IpPool::new();
    let first: IpAddr = "127.1.0.1".parse().unwrap();
    let held = TcpListener::bind(SocketAddr::new(first, 0)).unwrap();
    let port = held.local_addr().unwrap().port();
    let ip = free_address(&pool, &[port], || pool.allocate()).unwrap();
    assert_eq!(ip, "127.1.0.2".parse::<IpAddr>().unwrap());
    assert!(pool.is_allocated(ip));
    assert!(!pool.is_allocated(first), "the passed-over address is kept");
    // Without ports to hold, any address will do.
    assert_eq!(
        free_address(&pool, &[], || pool.allocate()),
        Some("127.1.0.3".parse().unwrap())
    );
}
