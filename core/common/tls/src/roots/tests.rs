use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

use super::*;

fn cert_pem(ca: bool) -> String {
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["root.example".to_string()]).expect("params");
    if ca {
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    }
    params.self_signed(&key).expect("cert").pem()
}

#[test]
fn a_bundle_of_ca_certificates_is_accepted() {
    let pem = format!("{}{}", cert_pem(true), cert_pem(true));
    let roots = TrustRoots::from_pem("ca.crt", pem.as_bytes()).expect("roots");
    assert_eq!(roots.certificates().len(), 2);
    assert_eq!(roots.root_store().len(), 2);
    assert_eq!(roots.source_name(), "ca.crt");
}

#[test]
fn empty_input_names_the_source() {
    let err = TrustRoots::from_pem("ca.crt", b"").expect_err("empty");
    let msg = err.to_string();
    assert!(msg.contains("ca.crt"), "{msg}");
    assert!(msg.contains("no CERTIFICATE"), "{msg}");
}

#[test]
fn a_leaf_is_not_an_anchor() {
    let err = TrustRoots::from_pem("ca.crt", cert_pem(false).as_bytes()).expect_err("leaf");
    assert!(err.to_string().contains("not a CA"), "{err}");
}

#[test]
fn garbage_inside_a_block_is_refused() {
    let pem = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    let err = TrustRoots::from_pem("ca.crt", pem).expect_err("garbage");
    assert!(err.to_string().contains("does not parse"), "{err}");
    assert!(
        matches!(
            &err,
            TlsError::InvalidRoots {
                problem: RootsProblem::Parse { number: 1, .. },
                ..
            }
        ),
        "{err:?}"
    );
    // The parser's error stays reachable as the source, not only as text.
    let problem = std::error::Error::source(&err).expect("a problem");
    assert!(std::error::Error::source(problem).is_some(), "{err:?}");
}

#[test]
fn a_missing_file_names_the_path() {
    let err = TrustRoots::from_pem_file(Path::new("/nonexistent/ca.crt")).expect_err("missing");
    assert!(err.to_string().starts_with("/nonexistent/ca.crt"), "{err}");
}
