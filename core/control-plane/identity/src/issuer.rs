//! A cluster's issuer, checked against the shared trust anchor at load.

use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::ca::{CaError, CaProblem, SigningCa, TrustAnchor, parse_cert, unix_to_system};

/// The CA that signs this cluster's workload certificates, with the trust
/// anchor it chains to. Built only through checks that the issuer is a
/// CA, is currently valid and is signed by the anchor: a mistake in the
/// PEM files is reported at startup, naming the file, instead of surfacing
/// later as proxies that cannot verify each other.
#[derive(Debug)]
pub struct Issuer {
    anchor: TrustAnchor,
    ca: SigningCa,
    chain: Vec<Vec<u8>>,
}

impl Issuer {
    /// Accepts `ca` as the issuer under `anchor`, checking it now.
    pub fn new(anchor: TrustAnchor, ca: SigningCa) -> Result<Self, CaError> {
        Issuer::new_at(anchor, ca, SystemTime::now())
    }

    /// Reads the anchor bundle, the issuer certificate and its key from PEM
    /// files (Linkerd's `ca.crt`, `issuer.crt`/`tls.crt`, `issuer.key`/`tls.key`)
    /// and checks them together.
    pub fn from_pem_files(anchor: &Path, cert: &Path, key: &Path) -> Result<Self, CaError> {
        let anchor = TrustAnchor::from_pem_file(anchor)?;
        let ca = SigningCa::from_pem_files(cert, key)?;
        Issuer::new(anchor, ca)
    }

    /// A fresh ECDSA P-256 issuer signed by `root` (whose certificate becomes
    /// the anchor): for installs and the embedded runtime that generate
    /// their own material. Every cluster may get its own from the same root.
    pub fn generate(
        root: &SigningCa,
        common_name: &str,
        lifetime: Duration,
    ) -> Result<Self, CaError> {
        let ca = root.generate_intermediate(common_name, lifetime)?;
        Issuer::new(root.as_trust_anchor(), ca)
    }

    pub(crate) fn new_at(
        anchor: TrustAnchor,
        ca: SigningCa,
        now: SystemTime,
    ) -> Result<Self, CaError> {
        let issuer_name = ca.source_name().to_string();
        let anchor_name = anchor.source_name().to_string();
        let issuer = parse_cert(&issuer_name, ca.certificate_der())?;
        if !issuer.is_ca() {
            return Err(CaError::invalid(&issuer_name, CaProblem::NotCa));
        }
        check_validity(&issuer_name, "issuer", &issuer, now)?;

        let is_anchor = anchor
            .certificates_der()
            .iter()
            .any(|der| der.as_slice() == ca.certificate_der());
        let mut signed_by_anchor = false;
        for der in anchor.certificates_der() {
            let root = parse_cert(&anchor_name, der)?;
            if root.subject() != issuer.issuer() {
                continue;
            }
            if issuer.verify_signature(Some(root.public_key())).is_ok() {
                check_validity(&anchor_name, "trust anchor", &root, now)?;
                signed_by_anchor = true;
                break;
            }
        }
        if !signed_by_anchor {
            return Err(CaError::invalid(
                &issuer_name,
                CaProblem::NotChained {
                    subject: issuer.subject().to_string(),
                    anchors: anchor_name,
                    issued_by: issuer.issuer().to_string(),
                },
            ));
        }
        let chain = if is_anchor {
            Vec::new()
        } else {
            vec![ca.certificate_der().to_vec()]
        };
        Ok(Issuer { anchor, ca, chain })
    }

    /// The trust anchor the issuer chains to.
    pub fn trust_anchor(&self) -> &TrustAnchor {
        &self.anchor
    }

    /// The issuer's certificate and key.
    pub fn ca(&self) -> &SigningCa {
        &self.ca
    }

    /// The certificates a proxy presents between its leaf and the anchor
    /// (the issuer, DER), since peers only hold the anchor.
    pub fn chain_der(&self) -> &[Vec<u8>] {
        &self.chain
    }
}

fn check_validity(
    source_name: &str,
    role: &'static str,
    cert: &x509_parser::certificate::X509Certificate<'_>,
    now: SystemTime,
) -> Result<(), CaError> {
    let validity = cert.validity();
    let not_before = unix_to_system(validity.not_before.timestamp());
    let not_after = unix_to_system(validity.not_after.timestamp());
    if now > not_after {
        return Err(CaError::invalid(
            source_name,
            CaProblem::Expired {
                role,
                subject: cert.subject().to_string(),
                not_after: validity.not_after,
            },
        ));
    }
    if now < not_before {
        return Err(CaError::invalid(
            source_name,
            CaProblem::NotYetValid {
                role,
                subject: cert.subject().to_string(),
                not_before: validity.not_before,
            },
        ));
    }
    Ok(())
}
