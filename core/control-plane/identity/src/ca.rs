//! Trust anchors and signing certificate authorities, generated or read from PEM.

use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// Why a trust anchor or issuer could not be generated, read or accepted.
/// Every variant names its source (a file, or what was being generated) so
/// an operator knows which of the three PEM files to fix.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// A file could not be read at all.
    #[error("{source_name}: cannot read: {error}")]
    Read {
        /// The file.
        source_name: String,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// The material was read but is unusable (bad PEM, not a CA, expired,
    /// not chaining to the anchor, a key that does not match ...).
    #[error("{source_name}: {problem}")]
    Invalid {
        /// The file (or what was being generated).
        source_name: String,
        /// What is wrong.
        #[source]
        problem: CaProblem,
    },
}

/// What is wrong with a trust anchor or a signing CA, or with making one.
#[derive(Debug, thiserror::Error)]
pub enum CaProblem {
    /// Generating a key or a certificate failed.
    #[error("{0}")]
    Generate(#[source] rcgen::Error),
    /// No randomness for a certificate's serial number.
    #[error("no randomness for a serial number")]
    NoRandomness,
    /// A validity bound a certificate cannot hold.
    #[error("time out of range: {0}")]
    Time(#[source] time::error::ComponentRange),
    /// Text that is not PEM.
    #[error("not valid PEM: {0}")]
    Pem(#[source] x509_parser::error::PEMError),
    /// Bytes that are not text.
    #[error("not PEM text")]
    NotText(#[source] std::str::Utf8Error),
    /// PEM without a certificate.
    #[error("no CERTIFICATE block found")]
    NoCertificate,
    /// More than one certificate where one belongs.
    #[error("expected one certificate, found {0}")]
    SeveralCertificates(usize),
    /// A certificate that is not X.509.
    #[error("not a valid certificate: {0}")]
    Certificate(#[source] x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// An anchor of a bundle that may not sign certificates.
    #[error("anchor {subject} is not a CA certificate")]
    AnchorNotCa {
        /// The anchor's subject.
        subject: String,
    },
    /// A signing certificate that may not sign certificates.
    #[error("not a CA certificate")]
    NotCa,
    /// A key that does not parse.
    #[error("unusable private key: {0}")]
    Key(#[source] rcgen::Error),
    /// A key that is not the certificate's.
    #[error("the key does not belong to the certificate in {certificate}")]
    KeyMismatch {
        /// The certificate's file.
        certificate: String,
    },
    /// A CA certificate the signer cannot use.
    #[error("unusable CA certificate: {0}")]
    UnusableCa(#[source] rcgen::Error),
    /// An issuer no anchor certificate signed.
    #[error(
        "issuer {subject} does not chain to the trust anchor in {anchors} \
         (issued by {issued_by}, which no anchor certificate signed)"
    )]
    NotChained {
        /// The issuer's subject.
        subject: String,
        /// The anchors' source.
        anchors: String,
        /// The issuer's issuer.
        issued_by: String,
    },
    /// A certificate past its validity.
    #[error("{role} certificate {subject} expired at {not_after}")]
    Expired {
        /// `issuer` or `trust anchor`.
        role: &'static str,
        /// Its subject.
        subject: String,
        /// When it expired.
        not_after: x509_parser::time::ASN1Time,
    },
    /// A certificate before its validity.
    #[error("{role} certificate {subject} is not valid before {not_before}")]
    NotYetValid {
        /// `issuer` or `trust anchor`.
        role: &'static str,
        /// Its subject.
        subject: String,
        /// When it becomes valid.
        not_before: x509_parser::time::ASN1Time,
    },
}

impl CaError {
    pub(crate) fn invalid(source_name: &str, problem: CaProblem) -> Self {
        CaError::Invalid {
            source_name: source_name.to_string(),
            problem,
        }
    }
}

/// The trust anchor(s) every proxy of the mesh trusts: all clusters of a
/// multicluster mesh share it, which is what lets a proxy in one cluster
/// verify a peer whose certificate another cluster's issuer signed. A bundle
/// may hold several anchors, so an anchor can be rotated without downtime.
#[derive(Clone, Debug)]
pub struct TrustAnchor {
    source_name: String,
    certs: Vec<Vec<u8>>,
}

impl TrustAnchor {
    /// Reads a PEM bundle of one or more anchor certificates from `path`.
    pub fn from_pem_file(path: &Path) -> Result<Self, CaError> {
        let name = path.display().to_string();
        let bytes = read_file(path)?;
        TrustAnchor::from_pem(&name, &bytes)
    }

    /// Reads a PEM bundle held in memory (a Secret or ConfigMap value);
    /// `source_name` is used in errors.
    pub fn from_pem(source_name: &str, pem: &[u8]) -> Result<Self, CaError> {
        let certs = pem_certificates(source_name, pem)?;
        if certs.is_empty() {
            return Err(CaError::invalid(source_name, CaProblem::NoCertificate));
        }
        let anchor = TrustAnchor {
            source_name: source_name.to_string(),
            certs,
        };
        for der in &anchor.certs {
            let cert = parse_cert(source_name, der)?;
            if !cert.is_ca() {
                return Err(CaError::invalid(
                    source_name,
                    CaProblem::AnchorNotCa {
                        subject: cert.subject().to_string(),
                    },
                ));
            }
        }
        Ok(anchor)
    }

    /// The anchor certificates, DER-encoded, as proxies are configured with them.
    pub fn certificates_der(&self) -> &[Vec<u8>] {
        &self.certs
    }

    /// The bundle as PEM, to hand to proxies and other clusters.
    pub fn to_pem(&self) -> String {
        self.certs
            .iter()
            .map(|der| pem_encode("CERTIFICATE", der))
            .collect()
    }

    /// Where the anchor came from, for error messages.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Each anchor certificate's subject and validity period, for checks
    /// that warn before an anchor expires.
    pub fn validity(&self) -> Vec<Validity> {
        self.certs
            .iter()
            .filter_map(|der| parse_cert(&self.source_name, der).ok())
            .map(|cert| Validity {
                subject: cert.subject().to_string(),
                not_before: unix_to_system(cert.validity().not_before.timestamp()),
                not_after: unix_to_system(cert.validity().not_after.timestamp()),
            })
            .collect()
    }
}

/// A certificate's subject and the period it is valid in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validity {
    /// Its subject, as X.509 prints it.
    pub subject: String,
    /// Not valid before this.
    pub not_before: SystemTime,
    /// Not valid after this.
    pub not_after: SystemTime,
}

/// A certificate with its private key that can sign certificates: the trust
/// anchor when strait generates one, or a cluster's issuer. Each cluster may
/// have its own issuer, all signed by the shared anchor.
pub struct SigningCa {
    source_name: String,
    cert_der: Vec<u8>,
    key_pem: String,
    signer: rcgen::Issuer<'static, KeyPair>,
    not_after: SystemTime,
}

impl std::fmt::Debug for SigningCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("SigningCa")
            .field("source_name", &self.source_name)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl SigningCa {
    /// A new self-signed ECDSA P-256 root, for installs that do not bring
    /// their own trust anchor (and for tests). Valid from now for `lifetime`.
    pub fn generate_root(common_name: &str, lifetime: Duration) -> Result<Self, CaError> {
        let now = SystemTime::now();
        Self::generate(common_name, now, now + lifetime, None)
    }

    /// A new ECDSA P-256 intermediate signed by `self`: the per-cluster
    /// issuer under a shared root. Valid from now for `lifetime`.
    pub fn generate_intermediate(
        &self,
        common_name: &str,
        lifetime: Duration,
    ) -> Result<Self, CaError> {
        let now = SystemTime::now();
        Self::generate(common_name, now, now + lifetime, Some(self))
    }

    pub(crate) fn generate(
        common_name: &str,
        not_before: SystemTime,
        not_after: SystemTime,
        parent: Option<&SigningCa>,
    ) -> Result<Self, CaError> {
        let what = format!("generated CA {common_name:?}");
        let fail = |e| CaError::invalid(&what, CaProblem::Generate(e));
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = to_offset(&what, not_before)?;
        params.not_after = to_offset(&what, not_after)?;
        params.serial_number = Some(random_serial(&what)?);
        let cert = match parent {
            None => params.self_signed(&key).map_err(fail)?,
            Some(parent) => {
                params.use_authority_key_identifier_extension = true;
                params.signed_by(&key, &parent.signer).map_err(fail)?
            }
        };
        let key_pem = key.serialize_pem();
        Ok(SigningCa {
            source_name: what,
            cert_der: cert.der().to_vec(),
            key_pem,
            not_after: unix_to_system(params.not_after.unix_timestamp()),
            signer: rcgen::Issuer::new(params, key),
        })
    }

    /// Reads a CA certificate and its private key from PEM files.
    pub fn from_pem_files(cert_path: &Path, key_path: &Path) -> Result<Self, CaError> {
        let cert_name = cert_path.display().to_string();
        let key_name = key_path.display().to_string();
        let cert = read_file(cert_path)?;
        let key = read_file(key_path)?;
        SigningCa::from_pem(&cert_name, &cert, &key_name, &key)
    }

    /// Reads a CA certificate and key held in memory (e.g. a Secret's
    /// `tls.crt` / `tls.key`); the names are used in errors. The certificate
    /// must be a CA and the key must be the certificate's key.
    pub fn from_pem(
        cert_name: &str,
        cert_pem: &[u8],
        key_name: &str,
        key_pem: &[u8],
    ) -> Result<Self, CaError> {
        let mut certs = pem_certificates(cert_name, cert_pem)?;
        let cert_der = match certs.len() {
            1 => certs.remove(0),
            0 => return Err(CaError::invalid(cert_name, CaProblem::NoCertificate)),
            n => {
                return Err(CaError::invalid(
                    cert_name,
                    CaProblem::SeveralCertificates(n),
                ));
            }
        };
        let key_text = std::str::from_utf8(key_pem)
            .map_err(|e| CaError::invalid(key_name, CaProblem::NotText(e)))?;
        let key = KeyPair::from_pem(key_text)
            .map_err(|e| CaError::invalid(key_name, CaProblem::Key(e)))?;

        let cert = parse_cert(cert_name, &cert_der)?;
        if !cert.is_ca() {
            return Err(CaError::invalid(cert_name, CaProblem::NotCa));
        }
        if rcgen::PublicKeyData::subject_public_key_info(&key) != cert.public_key().raw {
            return Err(CaError::invalid(
                key_name,
                CaProblem::KeyMismatch {
                    certificate: cert_name.to_string(),
                },
            ));
        }
        let not_after = unix_to_system(cert.validity().not_after.timestamp());
        let signer = rcgen::Issuer::from_ca_cert_der(&cert_der.as_slice().into(), key)
            .map_err(|e| CaError::invalid(cert_name, CaProblem::UnusableCa(e)))?;
        Ok(SigningCa {
            source_name: cert_name.to_string(),
            cert_der,
            key_pem: key_text.to_string(),
            signer,
            not_after,
        })
    }

    /// This CA's certificate as the sole trust anchor (for a generated root).
    pub fn as_trust_anchor(&self) -> TrustAnchor {
        TrustAnchor {
            source_name: self.source_name.clone(),
            certs: vec![self.cert_der.clone()],
        }
    }

    /// The certificate, DER-encoded.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate as PEM, to store in a Secret or hand to another cluster.
    pub fn certificate_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.cert_der)
    }

    /// The private key as PKCS#8 PEM, to store in a Secret.
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// When the certificate expires; leaves it signs never outlive it.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Where this CA came from, for error messages.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    pub(crate) fn signer(&self) -> &rcgen::Issuer<'static, KeyPair> {
        &self.signer
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, CaError> {
    std::fs::read(path).map_err(|error| CaError::Read {
        source_name: path.display().to_string(),
        error,
    })
}

fn pem_certificates(source_name: &str, pem: &[u8]) -> Result<Vec<Vec<u8>>, CaError> {
    let mut certs = Vec::new();
    for block in Pem::iter_from_buffer(pem) {
        let block = block.map_err(|e| CaError::invalid(source_name, CaProblem::Pem(e)))?;
        if block.label == "CERTIFICATE" {
            certs.push(block.contents);
        }
    }
    Ok(certs)
}

pub(crate) fn parse_cert<'a>(
    source_name: &str,
    der: &'a [u8],
) -> Result<X509Certificate<'a>, CaError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| CaError::invalid(source_name, CaProblem::Certificate(e)))
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(label, der))
}

pub(crate) fn to_offset(what: &str, t: SystemTime) -> Result<OffsetDateTime, CaError> {
    let secs = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    };
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| CaError::invalid(what, CaProblem::Time(e)))
}

pub(crate) fn unix_to_system(secs: i64) -> SystemTime {
    let abs = Duration::from_secs(secs.unsigned_abs());
    if secs >= 0 {
        SystemTime::UNIX_EPOCH + abs
    } else {
        SystemTime::UNIX_EPOCH - abs
    }
}

/// A random positive 128-bit serial: serials must be unique per issuer, and a
/// proxy renewing with the same key must not get the same serial twice.
pub(crate) fn random_serial(what: &str) -> Result<rcgen::SerialNumber, CaError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CaError::invalid(what, CaProblem::NoRandomness))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests;
