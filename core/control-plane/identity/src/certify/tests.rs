use std::time::{Duration, SystemTime};

use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256};

use super::*;
use crate::ca::SigningCa;
use crate::token::{EmbeddedTokens, ServiceAccountRef};

const ID: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
const HOUR: Duration = Duration::from_secs(60 * 60);

fn certifier(issuer_lifetime: Duration) -> Certifier {
    let root = SigningCa::generate_root("root", 1000 * HOUR).expect("root");
    let issuer = Issuer::generate(&root, "issuer", issuer_lifetime).expect("issuer");
    Certifier::new(issuer, IdentityDomain::default())
}

fn csr(san: &str) -> Vec<u8> {
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::new(vec![san.to_string()]).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.serialize_request(&key).expect("csr").der().to_vec()
}

fn secs_from_now(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::now())
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[test]
fn leaves_last_a_day_by_default_or_as_configured() {
    let certifier = certifier(100 * HOUR);
    let issued = certifier.issue(&csr(ID), ID).expect("issued");
    assert!((24 * 3600 - 60..=24 * 3600).contains(&secs_from_now(issued.valid_until)));

    let certifier = certifier.with_lifetime(HOUR);
    let issued = certifier.issue(&csr(ID), ID).expect("issued");
    assert!((3600 - 60..=3600).contains(&secs_from_now(issued.valid_until)));
}

#[test]
fn leaves_never_outlive_the_issuer() {
    let certifier = certifier(2 * HOUR);
    let issued = certifier.issue(&csr(ID), ID).expect("issued");
    assert_eq!(issued.valid_until, certifier.issuer().ca().not_after());
}

#[test]
fn leaves_are_end_entities_for_client_and_server_auth() {
    let certifier = certifier(100 * HOUR);
    let issued = certifier.issue(&csr(ID), ID).expect("issued");
    let (_, leaf) = x509_parser::parse_x509_certificate(&issued.leaf_der).expect("leaf");
    assert!(!leaf.is_ca());
    let eku = leaf
        .extended_key_usage()
        .expect("eku ext")
        .expect("eku present");
    assert!(eku.value.server_auth && eku.value.client_auth);
    assert_eq!(issued.chain_der, certifier.issuer().chain_der());
    let other = certifier.issue(&csr(ID), ID).expect("issued");
    let (_, other) = x509_parser::parse_x509_certificate(&other.leaf_der).expect("leaf");
    assert_ne!(leaf.raw_serial(), other.raw_serial(), "serials are unique");
}

#[test]
fn certify_checks_the_token_then_the_name() {
    let certifier = certifier(100 * HOUR);
    let tokens = EmbeddedTokens::new();
    tokens.register("t", ServiceAccountRef::new("mc-demo", "slow-cooker"));
    let run = |identity: &str, token: &[u8], csr: Vec<u8>| {
        let fut = certifier.certify(&tokens, identity, token, &csr);
        let mut fut = std::pin::pin!(fut);
        let waker = std::task::Waker::noop();
        match fut
            .as_mut()
            .poll(&mut std::task::Context::from_waker(waker))
        {
            std::task::Poll::Ready(out) => out,
            std::task::Poll::Pending => panic!("nothing here waits"),
        }
    };
    run(ID, b"t", csr(ID)).expect("issued");
    assert!(matches!(
        run(ID, b"x", csr(ID)),
        Err(CertifyError::Token(_))
    ));
    let other = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";
    assert!(matches!(
        run(other, b"t", csr(other)),
        Err(CertifyError::IdentityMismatch { .. })
    ));
    assert!(matches!(
        run(ID, b"t", csr(other)),
        Err(CertifyError::Csr(CsrError::WrongName(_)))
    ));
}
