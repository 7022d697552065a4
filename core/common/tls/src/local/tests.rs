use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use super::*;

const ID: &str = "web.emojivoto.serviceaccount.identity.linkerd.cluster.local";

#[test]
fn the_csr_names_only_the_identity_and_carries_our_key() {
    let local = LocalIdentity::new(ID).expect("identity");
    assert_eq!(local.name(), ID);
    let (rest, csr) = X509CertificationRequest::from_der(local.csr_der()).expect("csr");
    assert!(rest.is_empty());
    csr.verify_signature().expect("self-signed");
    let info = &csr.certification_request_info;
    assert_eq!(info.subject.iter_common_name().count(), 0);
    assert_eq!(info.subject_pki.raw, local.public_key_der());
    let mut names = Vec::new();
    for ext in csr.requested_extensions().expect("extensions") {
        if let ParsedExtension::SubjectAlternativeName(san) = ext {
            names.extend(san.general_names.iter().cloned());
        }
    }
    assert_eq!(names, vec![GeneralName::DNSName(ID)]);
}

#[test]
fn each_identity_gets_its_own_key() {
    let a = LocalIdentity::new(ID).expect("a");
    let b = LocalIdentity::new(ID).expect("b");
    assert_ne!(a.public_key_der(), b.public_key_der());
}

#[test]
fn names_that_are_not_dns_are_refused() {
    for bad in ["", "10.0.0.1", "has space.example", "a..b"] {
        let err = LocalIdentity::new(bad).expect_err(bad);
        assert!(
            matches!(err, TlsError::InvalidIdentity { .. }),
            "{bad}: {err}"
        );
    }
}

#[test]
fn debug_does_not_print_the_key() {
    let local = LocalIdentity::new(ID).expect("identity");
    let text = format!("{local:?}");
    assert!(text.contains(ID));
    assert!(!text.contains("key"), "{text}");
}
