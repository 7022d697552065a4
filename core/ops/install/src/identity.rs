//! The identity material an install ships: the trust anchors every proxy
//! trusts and this cluster's issuer under them, read from the user's PEM
//! files and checked, or generated.
//!
//! The checks are those the identity controller makes when it starts, done
//! at install time so that a wrong file is reported by `strait install`,
//! naming the file, instead of by a controller that never becomes ready.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256,
};
use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::pem::Pem;

/// The flag naming the trust anchors file, as errors name it.
pub const TRUST_ANCHORS_FLAG: &str = "--identity-trust-anchors-file";
/// The flag naming the issuer certificate file.
pub const ISSUER_CERTIFICATE_FLAG: &str = "--identity-issuer-certificate-file";
/// The flag naming the issuer key file.
pub const ISSUER_KEY_FLAG: &str = "--identity-issuer-key-file";

/// How long a generated trust anchor is valid: ten years, as Linkerd's
/// documentation creates them, since replacing an anchor means touching
/// every cluster of the mesh.
pub const GENERATED_ANCHOR_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);
/// How long a generated issuer is valid: one year.
pub const GENERATED_ISSUER_LIFETIME: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Why the identity material cannot be used. Every variant names the file
/// (or the flags) to fix.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Some of the three files were given, not all.
    #[error(
        "the identity files go together: {} given, but not {}; pass all three \
         ({TRUST_ANCHORS_FLAG}, {ISSUER_CERTIFICATE_FLAG}, {ISSUER_KEY_FLAG}) \
         or none to generate them",
        given.join(", "),
        missing.join(", ")
    )]
    Incomplete {
        /// The flags that were given.
        given: Vec<&'static str>,
        /// The flags that are missing.
        missing: Vec<&'static str>,
    },
    /// A file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file was read but its contents are unusable.
    #[error("{source_name}: {problem}")]
    Invalid {
        /// The file (or what was being generated).
        source_name: String,
        /// What is wrong.
        #[source]
        problem: IdentityProblem,
    },
}

/// What is wrong with the identity files, or with generating them.
#[derive(Debug, thiserror::Error)]
pub enum IdentityProblem {
    /// Generating a key or a certificate failed.
    #[error("{0}")]
    Generate(#[source] rcgen::Error),
    /// No randomness for a certificate's serial number.
    #[error("no randomness for a serial number")]
    NoRandomness,
    /// Bytes that are not text.
    #[error("not PEM text")]
    NotText(#[source] std::str::Utf8Error),
    /// Text that is not PEM.
    #[error("not valid PEM: {0}")]
    Pem(#[source] x509_parser::error::PEMError),
    /// PEM without a certificate.
    #[error("no CERTIFICATE block found")]
    NoCertificate,
    /// A certificate that is not X.509.
    #[error("not a valid certificate: {0}")]
    Certificate(#[source] x509_parser::nom::Err<x509_parser::error::X509Error>),
    /// A trust anchor that may not sign certificates.
    #[error("trust anchor {subject} is not a CA certificate")]
    AnchorNotCa {
        /// The anchor's subject.
        subject: String,
    },
    /// An issuer file with more than one certificate.
    #[error("expected one certificate, found {0}")]
    SeveralCertificates(usize),
    /// An issuer that may not sign certificates.
    #[error("the issuer is not a CA certificate")]
    IssuerNotCa,
    /// An issuer outside its validity period.
    #[error("the issuer is not valid now (valid from {not_before} to {not_after})")]
    IssuerNotValidNow {
        /// The start of its validity.
        not_before: x509_parser::time::ASN1Time,
        /// Its end.
        not_after: x509_parser::time::ASN1Time,
    },
    /// An issuer none of the anchors signed.
    #[error("issuer {issuer} is not signed by any trust anchor in {anchors}")]
    NotSigned {
        /// The issuer's subject.
        issuer: String,
        /// The anchors' file.
        anchors: String,
    },
    /// A key that does not parse.
    #[error("not a usable private key: {0}")]
    Key(#[source] rcgen::Error),
    /// A key of another algorithm.
    #[error("the issuer key must be ECDSA P-256")]
    KeyAlgorithm,
    /// A key that is not the issuer certificate's.
    #[error("the key does not belong to the certificate in {certificate}")]
    KeyMismatch {
        /// The issuer certificate's file.
        certificate: String,
    },
}

fn invalid(source_name: &str, problem: IdentityProblem) -> IdentityError {
    IdentityError::Invalid {
        source_name: source_name.to_string(),
        problem,
    }
}

/// The three PEM files of `--identity-*-file`, each optional: all or none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdentityFiles {
    /// The trust anchors bundle (`ca.crt`).
    pub trust_anchors: Option<PathBuf>,
    /// The issuer certificate (`issuer.crt`).
    pub issuer_certificate: Option<PathBuf>,
    /// The issuer private key (`issuer.key`).
    pub issuer_key: Option<PathBuf>,
}

impl IdentityFiles {
    /// Reads and checks the three files, or generates an anchor and an
    /// issuer for `trust_domain` when none is given. Giving only some is
    /// an error naming the missing flags.
    pub fn load(&self, trust_domain: &str) -> Result<IdentityMaterial, IdentityError> {
        let flags = [
            (TRUST_ANCHORS_FLAG, &self.trust_anchors),
            (ISSUER_CERTIFICATE_FLAG, &self.issuer_certificate),
            (ISSUER_KEY_FLAG, &self.issuer_key),
        ];
        let given: Vec<&'static str> = flags
            .iter()
            .filter(|(_, p)| p.is_some())
            .map(|(f, _)| *f)
            .collect();
        match (
            &self.trust_anchors,
            &self.issuer_certificate,
            &self.issuer_key,
        ) {
            (None, None, None) => IdentityMaterial::generate(trust_domain),
            (Some(anchors), Some(cert), Some(key)) => {
                IdentityMaterial::from_files(anchors, cert, key)
            }
            _ => Err(IdentityError::Incomplete {
                given,
                missing: flags
                    .iter()
                    .filter(|(_, p)| p.is_none())
                    .map(|(f, _)| *f)
                    .collect(),
            }),
        }
    }
}

/// Trust anchors and an issuer that chains to them, as PEM text ready
/// for the trust-roots ConfigMap and the issuer Secret.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityMaterial {
    /// The PEM bundle of trust anchors.
    pub trust_anchors_pem: String,
    /// The issuer certificate, PEM.
    pub issuer_certificate_pem: String,
    /// The issuer private key, PEM.
    pub issuer_key_pem: String,
    /// Whether strait generated this material (so no other cluster shares
    /// the anchor).
    pub generated: bool,
}

impl std::fmt::Debug for IdentityMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("IdentityMaterial")
            .field("trust_anchors_pem", &self.trust_anchors_pem)
            .field("issuer_certificate_pem", &self.issuer_certificate_pem)
            .field("generated", &self.generated)
            .finish_non_exhaustive()
    }
}

impl IdentityMaterial {
    /// A new ECDSA P-256 trust anchor `root.linkerd.<trust_domain>` and an
    /// issuer `identity.linkerd.<trust_domain>` signed by it, as `linkerd
    /// install` makes when given no certificates.
    pub fn generate(trust_domain: &str) -> Result<Self, IdentityError> {
        let root_name = format!("root.linkerd.{trust_domain}");
        let issuer_name = format!("identity.linkerd.{trust_domain}");
        let what = format!("generated trust anchor {root_name:?}");
        let fail = |e| invalid(&what, IdentityProblem::Generate(e));
        let root_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let root_params = ca_params(&what, &root_name, 1, GENERATED_ANCHOR_LIFETIME)?;
        let root_cert = root_params.self_signed(&root_key).map_err(fail)?;
        let root = rcgen::Issuer::new(root_params, root_key);

        let issuer_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let mut issuer_params = ca_params(&what, &issuer_name, 0, GENERATED_ISSUER_LIFETIME)?;
        issuer_params.use_authority_key_identifier_extension = true;
        let issuer_cert = issuer_params.signed_by(&issuer_key, &root).map_err(fail)?;
        Ok(IdentityMaterial {
            trust_anchors_pem: root_cert.pem(),
            issuer_certificate_pem: issuer_cert.pem(),
            issuer_key_pem: issuer_key.serialize_pem(),
            generated: true,
        })
    }

    /// Reads the three files and checks them together (see
    /// [`IdentityMaterial::from_pem`]).
    pub fn from_files(anchors: &Path, cert: &Path, key: &Path) -> Result<Self, IdentityError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| IdentityError::Read {
                path: path.display().to_string(),
                source,
            })
        };
        IdentityMaterial::from_pem(
            &Named::new(&anchors.display().to_string(), &read(anchors)?),
            &Named::new(&cert.display().to_string(), &read(cert)?),
            &Named::new(&key.display().to_string(), &read(key)?),
        )
    }

    /// Checks PEM held in memory: the anchors are CA certificates; the
    /// issuer is one CA certificate, valid now and signed by one of the
    /// anchors; the key is an ECDSA P-256 key and the issuer's own. Each
    /// fault names its source.
    pub fn from_pem(anchors: &Named, cert: &Named, key: &Named) -> Result<Self, IdentityError> {
        let anchor_ders = check_anchors(anchors)?;
        let anchor_certs = anchor_ders
            .iter()
            .map(|der| parse(anchors.name, der))
            .collect::<Result<Vec<_>, _>>()?;

        let issuer_ders = certificates(cert)?;
        let issuer_der = match issuer_ders.as_slice() {
            [one] => one,
            [] => return Err(invalid(cert.name, IdentityProblem::NoCertificate)),
            more => {
                return Err(invalid(
                    cert.name,
                    IdentityProblem::SeveralCertificates(more.len()),
                ));
            }
        };
        let issuer = parse(cert.name, issuer_der)?;
        if !issuer.is_ca() {
            return Err(invalid(cert.name, IdentityProblem::IssuerNotCa));
        }
        if !issuer.validity().is_valid() {
            return Err(invalid(
                cert.name,
                IdentityProblem::IssuerNotValidNow {
                    not_before: issuer.validity().not_before,
                    not_after: issuer.validity().not_after,
                },
            ));
        }
        let signed = anchor_certs.iter().any(|anchor| {
            anchor.subject() == issuer.issuer()
                && issuer.verify_signature(Some(anchor.public_key())).is_ok()
        });
        if !signed {
            return Err(invalid(
                cert.name,
                IdentityProblem::NotSigned {
                    issuer: issuer.subject().to_string(),
                    anchors: anchors.name.to_string(),
                },
            ));
        }

        let key_text = text(key)?;
        let key_pair =
            KeyPair::from_pem(&key_text).map_err(|e| invalid(key.name, IdentityProblem::Key(e)))?;
        if key_pair.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(invalid(key.name, IdentityProblem::KeyAlgorithm));
        }
        if rcgen::PublicKeyData::subject_public_key_info(&key_pair) != issuer.public_key().raw {
            return Err(invalid(
                key.name,
                IdentityProblem::KeyMismatch {
                    certificate: cert.name.to_string(),
                },
            ));
        }
        Ok(IdentityMaterial {
            trust_anchors_pem: text(anchors)?,
            issuer_certificate_pem: text(cert)?,
            issuer_key_pem: key_text,
            generated: false,
        })
    }
}

/// Reads a PEM bundle of trust anchors (for a proxy that must trust them,
/// such as the gateway's) and checks that it holds at least one
/// certificate and only CA certificates. Errors name the file.
pub fn trust_anchors_from_file(path: &Path) -> Result<String, IdentityError> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source| IdentityError::Read {
        path: name.clone(),
        source,
    })?;
    let named = Named::new(&name, &bytes);
    check_anchors(&named)?;
    text(&named)
}

/// The DER of every anchor in `anchors`, each checked to be a CA.
fn check_anchors(anchors: &Named) -> Result<Vec<Vec<u8>>, IdentityError> {
    let ders = certificates(anchors)?;
    if ders.is_empty() {
        return Err(invalid(anchors.name, IdentityProblem::NoCertificate));
    }
    for der in &ders {
        let anchor = parse(anchors.name, der)?;
        if !anchor.is_ca() {
            return Err(invalid(
                anchors.name,
                IdentityProblem::AnchorNotCa {
                    subject: anchor.subject().to_string(),
                },
            ));
        }
    }
    Ok(ders)
}

/// PEM bytes with the name errors use for them (a file path).
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    /// The name errors use.
    pub name: &'a str,
    /// The PEM bytes.
    pub pem: &'a [u8],
}

impl<'a> Named<'a> {
    /// `pem`, called `name` in errors.
    pub fn new(name: &'a str, pem: &'a [u8]) -> Self {
        Named { name, pem }
    }
}

fn text(source: &Named) -> Result<String, IdentityError> {
    std::str::from_utf8(source.pem)
        .map(str::to_string)
        .map_err(|e| invalid(source.name, IdentityProblem::NotText(e)))
}

fn certificates(source: &Named) -> Result<Vec<Vec<u8>>, IdentityError> {
    let mut certs = Vec::new();
    for block in Pem::iter_from_buffer(source.pem) {
        let block = block.map_err(|e| invalid(source.name, IdentityProblem::Pem(e)))?;
        if block.label == "CERTIFICATE" {
            certs.push(block.contents);
        }
    }
    Ok(certs)
}

fn parse<'a>(source_name: &str, der: &'a [u8]) -> Result<X509Certificate<'a>, IdentityError> {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, cert)| cert)
        .map_err(|e| invalid(source_name, IdentityProblem::Certificate(e)))
}

/// A CA certificate's parameters: valid from a minute ago (clock skew
/// between machines) for `lifetime`, with a random serial.
fn ca_params(
    what: &str,
    common_name: &str,
    path_len: u8,
    lifetime: Duration,
) -> Result<CertificateParams, IdentityError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::minutes(1);
    params.not_after = now + lifetime;
    params.serial_number = Some(random_serial(what)?);
    Ok(params)
}

/// A random positive 128-bit serial, unique per issuer in practice.
fn random_serial(what: &str) -> Result<rcgen::SerialNumber, IdentityError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| invalid(what, IdentityProblem::NoRandomness))?;
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    Ok(rcgen::SerialNumber::from_slice(&bytes))
}

#[cfg(test)]
mod tests;
