use super::*;

#[test]
fn only_loopback_addresses_may_be_plaintext() {
    for addr in [
        "127.0.0.1:8086",
        "127.3.4.5:8086",
        "[::1]:8090",
        "localhost:8080",
        "LOCALHOST.:8080",
    ] {
        assert!(is_loopback_addr(addr), "{addr} is loopback");
    }
    for addr in [
        "10.0.0.1:8086",
        "linkerd-dst.linkerd.svc.cluster.local.:8086",
        "localhost.evil.example:8080",
        "[2001:db8::1]:8090",
        "0.0.0.0:8086",
    ] {
        assert!(!is_loopback_addr(addr), "{addr} is not loopback");
    }
}

#[tokio::test]
async fn a_channel_off_loopback_is_refused_in_plaintext() {
    let err = channel(
        "destination",
        "linkerd-dst.linkerd.svc.cluster.local.:8086",
        ControlTls::Plaintext,
    )
    .expect_err("plaintext off loopback");
    assert!(
        err.to_string().contains("not on loopback"),
        "names the problem: {err}"
    );
    channel("destination", "127.0.0.1:8086", ControlTls::Plaintext).expect("loopback");
}
