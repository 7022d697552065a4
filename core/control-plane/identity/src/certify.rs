//! Issuing workload certificates: token, name and CSR checks, then signing.
//! Independent of gRPC, so the same logic serves any transport and tests.

use std::time::{Duration, SystemTime};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose,
    SanType,
};

use crate::ca::{CaError, random_serial, to_offset, unix_to_system};
use crate::csr::{self, CsrError, NameFault};
use crate::issuer::Issuer;
use crate::name::IdentityDomain;
use crate::token::{TokenRejected, TokenValidator};

/// Linkerd's default workload certificate lifetime: short enough that a
/// leaked key is soon useless, long enough that renewals stay rare.
pub const DEFAULT_LEAF_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How far a leaf's start is backdated, so that a peer whose clock is a
/// little behind does not see a certificate from the future.
const CLOCK_SKEW: Duration = Duration::from_secs(10);

/// A certificate issued to a proxy.
#[derive(Clone, Debug)]
pub struct Issued {
    /// The leaf, DER.
    pub leaf_der: Vec<u8>,
    /// The certificates between the leaf and the trust anchor, DER, leaf-side first.
    pub chain_der: Vec<Vec<u8>>,
    /// When the leaf expires; the proxy renews before then.
    pub valid_until: SystemTime,
}

/// Why a certification request was refused. Nothing was issued.
#[derive(Debug, thiserror::Error)]
pub enum CertifyError {
    /// The token did not prove a service account.
    #[error(transparent)]
    Token(#[from] TokenRejected),
    /// The requested identity is not the one the token's service account has.
    #[error("requested identity {requested:?} is not the token's identity {allowed:?}")]
    IdentityMismatch {
        /// What the proxy asked for.
        requested: String,
        /// What its token allows.
        allowed: String,
    },
    /// The CSR failed a check.
    #[error(transparent)]
    Csr(#[from] CsrError),
    /// Signing failed on the server side (not the requester's fault).
    #[error("signing failed: {0}")]
    Signing(#[source] SigningError),
}

/// Why the server could not sign a leaf it was willing to issue.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The leaf's validity or serial could not be made.
    #[error(transparent)]
    Ca(#[from] CaError),
    /// The certificate library refused to sign.
    #[error("{0}")]
    Certificate(#[source] rcgen::Error),
}

/// Issues leaf certificates for identities of one [`IdentityDomain`], signed
/// by one [`Issuer`].
#[derive(Debug)]
pub struct Certifier {
    issuer: Issuer,
    domain: IdentityDomain,
    lifetime: Duration,
}

impl Certifier {
    /// A certifier with Linkerd's default 24 h leaf lifetime.
    pub fn new(issuer: Issuer, domain: IdentityDomain) -> Self {
        Certifier {
            issuer,
            domain,
            lifetime: DEFAULT_LEAF_LIFETIME,
        }
    }

    /// Sets how long leaves are valid (capped by the issuer's own expiry).
    pub fn with_lifetime(mut self, lifetime: Duration) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// The domain identities are built in.
    pub fn domain(&self) -> &IdentityDomain {
        &self.domain
    }

    /// The issuer that signs.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The whole `Certify` flow: validates `token`, checks that `identity`
    /// is the one its service account has, then checks the CSR and issues.
    pub async fn certify<V: TokenValidator>(
        &self,
        validator: &V,
        identity: &str,
        token: &[u8],
        csr_der: &[u8],
    ) -> Result<Issued, CertifyError> {
        let account = validator.validate(token).await?;
        let allowed = self.domain.identity(&account.namespace, &account.name);
        if identity != allowed {
            return Err(CertifyError::IdentityMismatch {
                requested: identity.to_string(),
                allowed,
            });
        }
        self.issue(csr_der, identity)
    }

    /// Checks `csr_der` as a request for `identity` and signs a leaf for it.
    /// The caller must already have established that the requester may hold
    /// `identity`.
    pub fn issue(&self, csr_der: &[u8], identity: &str) -> Result<Issued, CertifyError> {
        let checked = csr::check(csr_der, identity)?;
        let public_key = rcgen::SubjectPublicKeyInfo::from_der(&checked.public_key_der)
            .map_err(CsrError::UnusableKey)?;

        let now = SystemTime::now();
        let not_after = (now + self.lifetime).min(self.issuer.ca().not_after());
        let internal = |e: CaError| CertifyError::Signing(SigningError::Ca(e));
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, identity);
        params.distinguished_name = dn;
        let san = identity
            .try_into()
            .map_err(|_| CsrError::WrongName(NameFault::NotDnsName(identity.to_string())))?;
        params.subject_alt_names = vec![SanType::DnsName(san)];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = to_offset(identity, now - CLOCK_SKEW).map_err(internal)?;
        params.not_after = to_offset(identity, not_after).map_err(internal)?;
        params.serial_number = Some(random_serial(identity).map_err(internal)?);
        let leaf = params
            .signed_by(&public_key, self.issuer.ca().signer())
            .map_err(|e| CertifyError::Signing(SigningError::Certificate(e)))?;
        tracing::debug!(%identity, "issued a workload certificate");
        Ok(Issued {
            leaf_der: leaf.der().to_vec(),
            chain_der: self.issuer.chain_der().to_vec(),
            // Exactly the leaf's notAfter (whole seconds).
            valid_until: unix_to_system(params.not_after.unix_timestamp()),
        })
    }
}

#[cfg(test)]
mod tests;
