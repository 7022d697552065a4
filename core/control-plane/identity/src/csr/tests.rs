use rcgen::{
    CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ECDSA_P256_SHA256,
    PKCS_ECDSA_P384_SHA384, PKCS_ED25519, SignatureAlgorithm,
};

use super::*;

const ID: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn csr_with(alg: &'static SignatureAlgorithm, sans: &[&str], cn: Option<&str>) -> Vec<u8> {
    let key = KeyPair::generate_for(alg).expect("key");
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .expect("params");
    let mut dn = DistinguishedName::new();
    if let Some(cn) = cn {
        dn.push(DnType::CommonName, cn);
    }
    params.distinguished_name = dn;
    params.serialize_request(&key).expect("csr").der().to_vec()
}

fn p256(sans: &[&str]) -> Vec<u8> {
    csr_with(&PKCS_ECDSA_P256_SHA256, sans, None)
}

#[test]
fn a_proxy_style_request_passes() {
    let checked = check(&p256(&[ID]), ID).expect("accepted");
    assert!(!checked.public_key_der.is_empty());
    check(&csr_with(&PKCS_ECDSA_P256_SHA256, &[ID], Some(ID)), ID).expect("CN = identity");
}

#[test]
fn wrong_missing_or_extra_names_are_refused() {
    let err = check(
        &p256(&["other.ns.serviceaccount.identity.linkerd.cluster.local"]),
        ID,
    )
    .expect_err("wrong SAN");
    assert!(matches!(err, CsrError::WrongName(_)), "{err}");
    assert!(err.to_string().contains("other.ns"), "{err}");

    let err = check(&p256(&[]), ID).expect_err("no SAN");
    assert!(err.to_string().contains("no DNS SAN"), "{err}");

    let err = check(&p256(&[ID, "extra.example"]), ID).expect_err("two SANs");
    assert!(err.to_string().contains("2 DNS SANs"), "{err}");

    let err = check(&p256(&[ID, "10.0.0.1"]), ID).expect_err("IP SAN");
    assert!(err.to_string().contains("only a DNS SAN"), "{err}");

    let err =
        check(&csr_with(&PKCS_ECDSA_P256_SHA256, &[ID], Some("evil")), ID).expect_err("other CN");
    assert!(err.to_string().contains("common name is \"evil\""), "{err}");
}

#[test]
fn other_keys_are_refused_by_name() {
    let err = check(&csr_with(&PKCS_ECDSA_P384_SHA384, &[ID], None), ID).expect_err("P-384");
    assert_eq!(err, CsrError::UnsupportedKey("ECDSA P-384".to_string()));
    assert!(err.to_string().contains("only ECDSA P-256"), "{err}");

    let err = check(&csr_with(&PKCS_ED25519, &[ID], None), ID).expect_err("Ed25519");
    assert_eq!(err, CsrError::UnsupportedKey("Ed25519".to_string()));
}

#[test]
fn garbage_and_tampering_are_refused() {
    let err = check(b"not a csr", ID).expect_err("garbage");
    assert!(matches!(err, CsrError::Malformed(_)), "{err}");

    let mut trailing = p256(&[ID]);
    trailing.push(0);
    let err = check(&trailing, ID).expect_err("trailing");
    assert!(err.to_string().contains("trailing"), "{err}");

    let mut tampered = p256(&[ID]);
    let last = tampered.len() - 1;
    tampered[last] ^= 0x01;
    let err = check(&tampered, ID).expect_err("bad signature");
    assert!(matches!(err, CsrError::BadSignature(_)), "{err}");
}
