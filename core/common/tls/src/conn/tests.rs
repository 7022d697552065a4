use super::*;

#[test]
fn tls_is_recognised_by_its_record_header() {
    assert!(looks_like_tls(&[0x16, 0x03]));
    assert!(looks_like_tls(&[0x16]));
    assert!(!looks_like_tls(b"GE"));
    assert!(!looks_like_tls(&[0x16, 0x00]));
    assert!(!looks_like_tls(&[]));
}

#[test]
fn the_reason_label_is_linkerds() {
    assert_eq!(NoTlsReason::NoTlsFromRemote.as_str(), "no_tls_from_remote");
    assert!(TlsStatus::Established.is_tls());
    assert!(!TlsStatus::NotTls(NoTlsReason::NoTlsFromRemote).is_tls());
}

#[test]
fn peer_identity_is_the_first_dns_san() {
    let key = rcgen::KeyPair::generate().expect("key");
    let params =
        rcgen::CertificateParams::new(vec!["a.example".to_string(), "b.example".to_string()])
            .expect("params");
    let cert = params.self_signed(&key).expect("cert");
    let der = CertificateDer::from(cert.der().to_vec());
    assert_eq!(peer_identity(&[der]), Some("a.example".to_string()));
    assert_eq!(peer_identity(&[]), None);
    assert_eq!(peer_identity(&[CertificateDer::from(vec![0u8; 4])]), None);
}
