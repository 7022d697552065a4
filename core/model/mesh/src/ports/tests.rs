use super::*;

#[test]
fn the_ports_are_linkerds() {
    assert_eq!(INBOUND_PORT, 4143);
    assert_eq!(OUTBOUND_PORT, 4140);
    assert_eq!(ADMIN_PORT, 4191);
    assert_eq!(CONTROL_PORT, 4190);
}

#[test]
fn the_listen_addresses_are_written_as_linkerds_injector_writes_them() {
    assert_eq!(INBOUND_ADDR.to_string(), "0.0.0.0:4143");
    assert_eq!(OUTBOUND_ADDR.to_string(), "127.0.0.1:4140");
    assert_eq!(ADMIN_ADDR.to_string(), "0.0.0.0:4191");
}
