//! Checks on the certificate signing requests proxies send.
//!
//! Linkerd's proxies send a DER PKCS#10 request for an ECDSA P-256 key whose
//! only name is the identity, as a DNS SAN. Anything else is refused before
//! signing, the way Linkerd's identity controller refuses it.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::der_parser::error::BerError;
use x509_parser::error::X509Error;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;

/// Why a certificate signing request was refused. Nothing is issued for it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CsrError {
    /// The bytes are not a DER PKCS#10 request.
    #[error("certificate signing request is malformed: {0}")]
    Malformed(#[source] Malformation),
    /// Only ECDSA P-256 keys are accepted: that is what proxies generate and
    /// what every proxy's TLS stack is guaranteed to verify. Carries the key
    /// type found, e.g. `ECDSA P-384`.
    #[error(
        "certificate signing request has an unsupported key: {0}; only ECDSA P-256 is accepted"
    )]
    UnsupportedKey(String),
    /// A key of the accepted type that cannot be used to sign a leaf.
    #[error(
        "certificate signing request has an unsupported key: {0}; only ECDSA P-256 is accepted"
    )]
    UnusableKey(#[source] rcgen::Error),
    /// The request's signature does not verify with its own key, so the
    /// requester does not hold the private key.
    #[error("certificate signing request signature does not verify: {0}")]
    BadSignature(#[source] X509Error),
    /// The request names something other than exactly the expected identity.
    #[error("certificate signing request names the wrong identity: {0}")]
    WrongName(#[source] NameFault),
}

/// How a request fails to be a DER PKCS#10 request.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Malformation {
    /// The bytes do not parse.
    #[error("{0}")]
    Der(#[source] x509_parser::nom::Err<X509Error>),
    /// The request is followed by more bytes.
    #[error("{0} trailing bytes after the request")]
    TrailingBytes(usize),
    /// A requested extension does not parse.
    #[error("a requested extension cannot be parsed: {0}")]
    Extension(#[source] x509_parser::nom::Err<BerError>),
    /// The subject's common name is not text.
    #[error("common name is not a string: {0}")]
    CommonName(#[source] X509Error),
}

/// How the names a request asks for differ from the one identity expected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameFault {
    /// A subject alternative name that is not a DNS name.
    #[error("only a DNS SAN is allowed, found {0}")]
    NotDnsSan(String),
    /// One DNS SAN, but another identity.
    #[error("DNS SAN is {found:?}, expected {expected:?}")]
    OtherSan {
        /// The name asked for.
        found: String,
        /// The identity expected.
        expected: String,
    },
    /// No DNS SAN at all.
    #[error("no DNS SAN; expected {expected:?}")]
    NoSan {
        /// The identity expected.
        expected: String,
    },
    /// More than one DNS SAN.
    #[error("{} DNS SANs {found:?}; expected exactly {expected:?}", found.len())]
    SeveralSans {
        /// The names asked for.
        found: Vec<String>,
        /// The identity expected.
        expected: String,
    },
    /// A common name other than the identity.
    #[error("common name is {found:?}, expected {expected:?} or none")]
    CommonName {
        /// The common name asked for.
        found: String,
        /// The identity expected.
        expected: String,
    },
    /// The identity itself cannot be a DNS SAN.
    #[error("{0:?} is not a DNS name")]
    NotDnsName(String),
}

/// What a request that passed every check contributes to the leaf.
#[derive(Debug, Clone)]
pub struct CheckedCsr {
    /// The requester's public key, as a DER SubjectPublicKeyInfo.
    pub public_key_der: Vec<u8>,
}

/// Checks `der` as a request for `expected_identity`: well-formed, an ECDSA
/// P-256 key, a valid self-signature, exactly one DNS SAN equal to the
/// identity, no other SANs, and a common name that is empty or the identity.
pub fn check(der: &[u8], expected_identity: &str) -> Result<CheckedCsr, CsrError> {
    let (rest, csr) = X509CertificationRequest::from_der(der)
        .map_err(|e| CsrError::Malformed(Malformation::Der(e)))?;
    if !rest.is_empty() {
        return Err(CsrError::Malformed(Malformation::TrailingBytes(rest.len())));
    }
    let info = &csr.certification_request_info;

    check_key(&info.subject_pki.algorithm)?;
    csr.verify_signature().map_err(CsrError::BadSignature)?;

    let mut dns_names = Vec::new();
    if let Some(extensions) = csr.requested_extensions() {
        for ext in extensions {
            match ext {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(dns) => dns_names.push(*dns),
                            other => {
                                return Err(CsrError::WrongName(NameFault::NotDnsSan(
                                    other.to_string(),
                                )));
                            }
                        }
                    }
                }
                ParsedExtension::ParseError { error } => {
                    return Err(CsrError::Malformed(Malformation::Extension(error.clone())));
                }
                // Other requested extensions (key usage, basic constraints,
                // unknown ones ...) are ignored: the issuer alone decides the
                // leaf's extensions.
                _ => {}
            }
        }
    }
    let expected = || expected_identity.to_string();
    match dns_names.as_slice() {
        [name] if *name == expected_identity => {}
        [name] => {
            return Err(CsrError::WrongName(NameFault::OtherSan {
                found: name.to_string(),
                expected: expected(),
            }));
        }
        [] => {
            return Err(CsrError::WrongName(NameFault::NoSan {
                expected: expected(),
            }));
        }
        names => {
            return Err(CsrError::WrongName(NameFault::SeveralSans {
                found: names.iter().map(|n| n.to_string()).collect(),
                expected: expected(),
            }));
        }
    }
    for cn in info.subject.iter_common_name() {
        let cn = cn
            .as_str()
            .map_err(|e| CsrError::Malformed(Malformation::CommonName(e)))?;
        if !cn.is_empty() && cn != expected_identity {
            return Err(CsrError::WrongName(NameFault::CommonName {
                found: cn.to_string(),
                expected: expected(),
            }));
        }
    }
    Ok(CheckedCsr {
        public_key_der: info.subject_pki.raw.to_vec(),
    })
}

fn check_key(alg: &x509_parser::x509::AlgorithmIdentifier<'_>) -> Result<(), CsrError> {
    if alg.algorithm == OID_KEY_TYPE_EC_PUBLIC_KEY {
        let curve = alg.parameters.as_ref().and_then(|p| p.as_oid().ok());
        return match curve {
            Some(curve) if curve == OID_EC_P256 => Ok(()),
            Some(curve) if curve == OID_NIST_EC_P384 => {
                Err(CsrError::UnsupportedKey("ECDSA P-384".to_string()))
            }
            Some(curve) => Err(CsrError::UnsupportedKey(format!("ECDSA on curve {curve}"))),
            None => Err(CsrError::UnsupportedKey(
                "ECDSA without a named curve".to_string(),
            )),
        };
    }
    let name = if alg.algorithm == OID_PKCS1_RSAENCRYPTION {
        "RSA".to_string()
    } else if alg.algorithm == OID_SIG_ED25519 {
        "Ed25519".to_string()
    } else {
        format!("key algorithm {}", alg.algorithm)
    };
    Err(CsrError::UnsupportedKey(name))
}

#[cfg(test)]
mod tests;
