use std::path::PathBuf;

use super::*;

/// A scratch directory removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir = std::env::temp_dir().join(format!(
            "strait-install-{tag}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write");
        path
    }

    /// The three files of `material`.
    fn files(&self, material: &IdentityMaterial) -> IdentityFiles {
        IdentityFiles {
            trust_anchors: Some(self.write("ca.crt", &material.trust_anchors_pem)),
            issuer_certificate: Some(self.write("issuer.crt", &material.issuer_certificate_pem)),
            issuer_key: Some(self.write("issuer.key", &material.issuer_key_pem)),
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn error_text(result: Result<IdentityMaterial, IdentityError>) -> String {
    match result {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn no_files_generates_an_anchor_and_an_issuer_that_pass_the_checks() {
    let material = IdentityFiles::default()
        .load("example.org")
        .expect("generated");
    assert!(material.generated);
    let anchors = x509_parser::pem::parse_x509_pem(material.trust_anchors_pem.as_bytes())
        .expect("PEM")
        .1;
    let anchor = anchors.parse_x509().expect("certificate");
    assert_eq!(anchor.subject().to_string(), "CN=root.linkerd.example.org");
    assert!(anchor.is_ca());

    let scratch = Scratch::new("generated");
    let reread = scratch
        .files(&material)
        .load("example.org")
        .expect("checks pass");
    assert!(!reread.generated);
    assert_eq!(reread.trust_anchors_pem, material.trust_anchors_pem);
    assert_eq!(reread.issuer_key_pem, material.issuer_key_pem);
}

#[test]
fn two_generations_make_different_anchors() {
    let a = IdentityMaterial::generate("cluster.local").expect("a");
    let b = IdentityMaterial::generate("cluster.local").expect("b");
    assert_ne!(a.trust_anchors_pem, b.trust_anchors_pem);
}

#[test]
fn some_files_without_the_others_name_the_missing_flags() {
    let scratch = Scratch::new("partial");
    let material = IdentityMaterial::generate("cluster.local").expect("material");
    let files = IdentityFiles {
        issuer_key: None,
        trust_anchors: None,
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(
        message.contains("--identity-issuer-certificate-file given"),
        "{message}"
    );
    assert!(
        message.contains("not --identity-trust-anchors-file, --identity-issuer-key-file"),
        "{message}"
    );
}

#[test]
fn an_issuer_from_another_anchor_is_refused_naming_the_certificate_file() {
    let scratch = Scratch::new("foreign");
    let ours = IdentityMaterial::generate("cluster.local").expect("ours");
    let theirs = IdentityMaterial::generate("cluster.local").expect("theirs");
    let files = IdentityFiles {
        trust_anchors: Some(scratch.write("ca.crt", &ours.trust_anchors_pem)),
        issuer_certificate: Some(scratch.write("issuer.crt", &theirs.issuer_certificate_pem)),
        issuer_key: Some(scratch.write("issuer.key", &theirs.issuer_key_pem)),
    };
    let message = error_text(files.load("cluster.local"));
    assert!(message.contains("issuer.crt:"), "{message}");
    assert!(
        message.contains("not signed by any trust anchor"),
        "{message}"
    );
}

#[test]
fn a_key_of_another_certificate_is_refused_naming_the_key_file() {
    let scratch = Scratch::new("mismatch");
    let ours = IdentityMaterial::generate("cluster.local").expect("ours");
    let theirs = IdentityMaterial::generate("cluster.local").expect("theirs");
    let files = IdentityFiles {
        issuer_key: Some(scratch.write("other.key", &theirs.issuer_key_pem)),
        ..scratch.files(&ours)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(message.contains("other.key:"), "{message}");
    assert!(
        message.contains("does not belong to the certificate"),
        "{message}"
    );
}

#[test]
fn files_that_do_not_parse_are_named() {
    let scratch = Scratch::new("garbage");
    let material = IdentityMaterial::generate("cluster.local").expect("material");

    let files = IdentityFiles {
        trust_anchors: Some(scratch.write("anchors.pem", "not a certificate\n")),
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(
        message.contains("anchors.pem: no CERTIFICATE block"),
        "{message}"
    );

    let files = IdentityFiles {
        issuer_key: Some(scratch.write(
            "bad.key",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )),
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(
        message.contains("bad.key: not a usable private key"),
        "{message}"
    );

    let files = IdentityFiles {
        issuer_certificate: Some(scratch.write(
            "two.crt",
            &format!(
                "{}{}",
                material.issuer_certificate_pem, material.trust_anchors_pem
            ),
        )),
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(
        message.contains("two.crt: expected one certificate, found 2"),
        "{message}"
    );
}

#[test]
fn an_anchor_as_its_own_issuer_needs_its_key() {
    // The anchor is a CA signed by itself, so it passes as an issuer only
    // with its own key, which the generated material does not hand out.
    let scratch = Scratch::new("anchor-issuer");
    let material = IdentityMaterial::generate("cluster.local").expect("material");
    let files = IdentityFiles {
        issuer_certificate: Some(scratch.write("root.crt", &material.trust_anchors_pem)),
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(message.contains("issuer.key:"), "{message}");
}

#[test]
fn a_missing_file_is_named() {
    let material = IdentityMaterial::generate("cluster.local").expect("material");
    let scratch = Scratch::new("missing");
    let files = IdentityFiles {
        trust_anchors: Some(scratch.0.join("nowhere.crt")),
        ..scratch.files(&material)
    };
    let message = error_text(files.load("cluster.local"));
    assert!(message.contains("nowhere.crt: cannot read"), "{message}");
}

#[test]
fn debug_output_never_shows_the_key() {
    let material = IdentityMaterial::generate("cluster.local").expect("material");
    let debug = format!("{material:?}");
    assert!(!debug.contains("PRIVATE KEY"), "{debug}");
}

#[test]
fn a_trust_anchors_file_must_hold_ca_certificates() {
    let scratch = Scratch::new("anchors");
    let material = IdentityMaterial::generate("cluster.local").expect("material");
    let good = scratch.write("ca.crt", &material.trust_anchors_pem);
    assert_eq!(
        trust_anchors_from_file(&good).expect("anchors"),
        material.trust_anchors_pem
    );
    let empty = scratch.write("empty.crt", "");
    let message = trust_anchors_from_file(&empty)
        .expect_err("empty")
        .to_string();
    assert!(
        message.contains("empty.crt: no CERTIFICATE block"),
        "{message}"
    );
}
