use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use rcgen::{CertificateParams, KeyPair};

use super::*;
use crate::issuer::Issuer;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "strait-identity-{tag}-{}-{:?}",
            std::process::id(),
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn generated_issuer_chains_to_its_root() {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", 365 * DAY).expect("root");
    let issuer =
        Issuer::generate(&root, "identity.linkerd.cluster.local", 30 * DAY).expect("issuer");
    assert_eq!(issuer.chain_der(), [issuer.ca().certificate_der().to_vec()]);
    assert_eq!(
        issuer.trust_anchor().certificates_der(),
        [root.certificate_der().to_vec()]
    );
}

#[test]
fn pem_files_round_trip() {
    let root = SigningCa::generate_root("root", 365 * DAY).expect("root");
    let ca = root
        .generate_intermediate("east issuer", 30 * DAY)
        .expect("ca");
    let dir = Scratch::new("roundtrip");
    let anchor = dir.write("ca.crt", &root.as_trust_anchor().to_pem());
    let cert = dir.write("issuer.crt", &ca.certificate_pem());
    let key = dir.write("issuer.key", ca.key_pem());
    let issuer = Issuer::from_pem_files(&anchor, &cert, &key).expect("loads");
    assert_eq!(issuer.ca().certificate_der(), ca.certificate_der());
}

#[test]
fn the_root_itself_may_issue() {
    let root = SigningCa::generate_root("root", DAY).expect("root");
    let again = SigningCa::from_pem(
        "root.crt",
        root.certificate_pem().as_bytes(),
        "root.key",
        root.key_pem().as_bytes(),
    )
    .expect("reload");
    let issuer = Issuer::new(root.as_trust_anchor(), again).expect("self-issued");
    assert!(issuer.chain_der().is_empty());
}

#[test]
fn an_issuer_from_another_root_is_refused() {
    let root = SigningCa::generate_root("root", DAY).expect("root");
    let other = SigningCa::generate_root("other root", DAY).expect("other");
    let ca = other.generate_intermediate("issuer", DAY).expect("ca");
    let dir = Scratch::new("chain");
    let anchor = dir.write("ca.crt", &root.as_trust_anchor().to_pem());
    let cert = dir.write("issuer.crt", &ca.certificate_pem());
    let key = dir.write("issuer.key", ca.key_pem());
    let err = Issuer::from_pem_files(&anchor, &cert, &key).expect_err("wrong root");
    let msg = err.to_string();
    assert!(msg.starts_with(&cert.display().to_string()), "{msg}");
    assert!(msg.contains("does not chain to the trust anchor"), "{msg}");
    assert!(msg.contains(&anchor.display().to_string()), "{msg}");
}

#[test]
fn an_expired_or_future_issuer_is_refused() {
    let root = SigningCa::generate_root("root", 365 * DAY).expect("root");
    let now = SystemTime::now();
    let expired =
        SigningCa::generate("old issuer", now - 10 * DAY, now - DAY, Some(&root)).expect("ca");
    let err = Issuer::new(root.as_trust_anchor(), expired).expect_err("expired");
    assert!(err.to_string().contains("expired at"), "{err}");

    let future =
        SigningCa::generate("new issuer", now + DAY, now + 10 * DAY, Some(&root)).expect("ca");
    let err = Issuer::new(root.as_trust_anchor(), future).expect_err("future");
    assert!(err.to_string().contains("not valid before"), "{err}");
}

#[test]
fn an_expired_anchor_is_refused() {
    let now = SystemTime::now();
    let root = SigningCa::generate("old root", now - 10 * DAY, now - DAY, None).expect("root");
    let ca = SigningCa::generate("issuer", now - DAY, now + DAY, Some(&root)).expect("ca");
    let err = Issuer::new(root.as_trust_anchor(), ca).expect_err("expired anchor");
    assert!(
        err.to_string().contains("trust anchor certificate"),
        "{err}"
    );
}

#[test]
fn a_leaf_or_a_foreign_key_is_refused() {
    let key = KeyPair::generate().expect("key");
    let leaf = CertificateParams::new(vec!["leaf.example".to_string()])
        .expect("params")
        .self_signed(&key)
        .expect("leaf");
    let err = SigningCa::from_pem(
        "issuer.crt",
        leaf.pem().as_bytes(),
        "issuer.key",
        key.serialize_pem().as_bytes(),
    )
    .expect_err("not a CA");
    assert_eq!(err.to_string(), "issuer.crt: not a CA certificate");

    let root = SigningCa::generate_root("root", DAY).expect("root");
    let other = KeyPair::generate().expect("key");
    let err = SigningCa::from_pem(
        "issuer.crt",
        root.certificate_pem().as_bytes(),
        "issuer.key",
        other.serialize_pem().as_bytes(),
    )
    .expect_err("foreign key");
    assert!(
        err.to_string()
            .starts_with("issuer.key: the key does not belong"),
        "{err}"
    );
}

#[test]
fn unreadable_or_empty_files_are_named() {
    let dir = Scratch::new("missing");
    let missing = dir.0.join("nope.crt");
    let err = TrustAnchor::from_pem_file(&missing).expect_err("missing");
    assert!(err.to_string().contains("nope.crt: cannot read"), "{err}");

    let err = TrustAnchor::from_pem("ca.crt", b"hello").expect_err("no PEM");
    assert_eq!(err.to_string(), "ca.crt: no CERTIFICATE block found");

    let err = SigningCa::from_pem("issuer.crt", b"", "issuer.key", b"junk").expect_err("empty");
    assert!(err.to_string().starts_with("issuer.crt:"), "{err}");
}
