use super::*;

#[test]
fn allocates_distinct_addresses_in_the_range() {
    let mut ips = ClusterIps::new(Ipv4Addr::new(10, 96, 0, 0), 12);
    let a = ips.allocate().unwrap();
    let b = ips.allocate().unwrap();
    assert_ne!(a, b);
    assert_eq!(a, Ipv4Addr::new(10, 96, 0, 1));
    assert!(u32::from(b) >> 20 == u32::from(Ipv4Addr::new(10, 96, 0, 0)) >> 20);
}

#[test]
fn skips_reserved_addresses_and_reuses_released_ones() {
    let mut ips = ClusterIps::new(Ipv4Addr::new(192, 168, 7, 0), 30);
    ips.reserve("192.168.7.1");
    assert_eq!(ips.allocate(), Some(Ipv4Addr::new(192, 168, 7, 2)));
    assert_eq!(ips.allocate(), None, "a /30 has two usable addresses");
    ips.release("192.168.7.1");
    assert_eq!(ips.allocate(), Some(Ipv4Addr::new(192, 168, 7, 1)));
}
