//! Checks on the certificate signing requests proxies send.
//!
//! Linkerd's proxies send a DER PKCS#10 request for an ECDSA P-256 key whose
//! only name is the identity, as a DNS SAN. Anything else is refused before
//! signing, the way Linkerd's identity controller refuses it.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_NIST_EC_P384, OID_PKCS1_RSAENCRYPTION,
    OID_SIG_ED25519,
};
use x509_parser::prelude::FromDer;

/// Why a certificate signing request was refused. Nothing is issued for it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CsrError {
    /// The bytes are not a DER PKCS#10 request.
    #[error("certificate signing request is malformed: {0}")]
    Malformed(String),
    /// Only ECDSA P-256 keys are accepted: that is what proxies generate and
    /// what every proxy's TLS stack is guaranteed to verify.
    #[error(
        "certificate signing request has an unsupported key: {0}; only ECDSA P-256 is accepted"
    )]
    UnsupportedKey(String),
    /// The request's signature does not verify with its own key, so the
    /// requester does not hold the private key.
    #[error("certificate signing request signature does not verify: {0}")]
    BadSignature(String),
    /// The request names something other than exactly the expected identity.
    #[error("certificate signing request names the wrong identity: {0}")]
    WrongName(String),
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
    let (rest, csr) =
        X509CertificationRequest::from_der(der).map_err(|e| CsrError::Malformed(e.to_string()))?;
    if !rest.is_empty() {
        return Err(CsrError::Malformed(format!(
            "{} trailing bytes after the request",
            rest.len()
        )));
    }
    let info = &csr.certification_request_info;

    check_key(&info.subject_pki.algorithm)?;
    csr.verify_signature()
        .map_err(|e| CsrError::BadSignature(e.to_string()))?;

    let mut dns_names = Vec::new();
    if let Some(extensions) = csr.requested_extensions() {
        for ext in extensions {
            match ext {
                ParsedExtension::SubjectAlternativeName(san) => {
                    for name in &san.general_names {
                        match name {
                            GeneralName::DNSName(dns) => dns_names.push(*dns),
                            other => {
                                return Err(CsrError::WrongName(format!(
                                    "only a DNS SAN is allowed, found {other}"
                                )));
                            }
                        }
                    }
                }
                ParsedExtension::ParseError { error } => {
                    return Err(CsrError::Malformed(format!(
                        "a requested extension cannot be parsed: {error}"
                    )));
                }
                // Other requested extensions (key usage, basic constraints,
                // unknown ones ...) are ignored: the issuer alone decides the
                // leaf's extensions.
                _ => {}
            }
        }
    }
    match dns_names.as_slice() {
        [name] if *name == expected_identity => {}
        [name] => {
            return Err(CsrError::WrongName(format!(
                "DNS SAN is {name:?}, expected {expected_identity:?}"
            )));
        }
        [] => {
            return Err(CsrError::WrongName(format!(
                "no DNS SAN; expected {expected_identity:?}"
            )));
        }
        names => {
            return Err(CsrError::WrongName(format!(
                "{} DNS SANs {names:?}; expected exactly {expected_identity:?}",
                names.len()
            )));
        }
    }
    for cn in info.subject.iter_common_name() {
        let cn = cn
            .as_str()
            .map_err(|e| CsrError::Malformed(format!("common name is not a string: {e}")))?;
        if !cn.is_empty() && cn != expected_identity {
            return Err(CsrError::WrongName(format!(
                "common name is {cn:?}, expected {expected_identity:?} or none"
            )));
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
