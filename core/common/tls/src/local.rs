//! The proxy's own key and the signing request naming its identity.

use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256, PublicKeyData};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};

use crate::error::{IdentityNameProblem, TlsError};

/// The identity this proxy runs as, with the private key that never leaves
/// the process and the certificate signing request sent to the identity
/// service. The key is generated once at start, as Linkerd's proxy does,
/// and every renewal certifies the same key and request.
pub struct LocalIdentity {
    name: String,
    key_pkcs8: Vec<u8>,
    public_key_der: Vec<u8>,
    csr_der: Vec<u8>,
}

impl std::fmt::Debug for LocalIdentity {
    /// Leaves the private key out, so a debug log never leaks it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIdentity")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl LocalIdentity {
    /// Generates an ECDSA P-256 key and a CSR whose only name is the DNS
    /// SAN `name`, with an empty subject: exactly what the identity service
    /// accepts (it refuses other key types and any other name).
    pub fn new(name: &str) -> Result<Self, TlsError> {
        check_name(name)?;
        let keygen = |step| {
            move |source| TlsError::KeyGeneration {
                identity: name.to_string(),
                step,
                source,
            }
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(keygen("key generation failed"))?;
        let mut params = CertificateParams::new(vec![name.to_string()]).map_err(|e| {
            TlsError::InvalidIdentity {
                name: name.to_string(),
                reason: IdentityNameProblem::Unusable(e),
            }
        })?;
        params.distinguished_name = DistinguishedName::new();
        let csr = params
            .serialize_request(&key)
            .map_err(keygen("cannot sign the CSR"))?;
        Ok(LocalIdentity {
            name: name.to_string(),
            key_pkcs8: key.serialize_der(),
            public_key_der: key.subject_public_key_info(),
            csr_der: csr.der().to_vec(),
        })
    }

    /// The identity (the DNS SAN the certificate must carry).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DER PKCS#10 request sent with every `Certify` call.
    pub fn csr_der(&self) -> &[u8] {
        &self.csr_der
    }

    /// The public key as a DER SubjectPublicKeyInfo, to check that an issued
    /// leaf certifies this key and not another.
    pub fn public_key_der(&self) -> &[u8] {
        &self.public_key_der
    }

    /// The private key, for the TLS configurations.
    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_pkcs8.clone()))
    }
}

/// Identities are compared by webpki as DNS names, so anything that is not
/// one could never be verified by a peer: refuse it at start.
fn check_name(name: &str) -> Result<(), TlsError> {
    let invalid = |reason| TlsError::InvalidIdentity {
        name: name.to_string(),
        reason,
    };
    match ServerName::try_from(name) {
        Ok(ServerName::DnsName(_)) => Ok(()),
        Ok(_) => Err(invalid(IdentityNameProblem::IpAddress)),
        Err(e) => Err(invalid(IdentityNameProblem::NotDnsName(e))),
    }
}

#[cfg(test)]
mod tests;
