//! A mesh's certificate authorities, generated for a test: the trust root
//! proxies are given as trust anchors and the issuers identity services
//! sign with.

use std::sync::Arc;
use std::time::Duration;

use strait_identity::{Certifier, IdentityDomain, Issuer, SigningCa};

/// The lifetime of test certificates: longer than any test runs.
pub const DAY: Duration = Duration::from_secs(24 * 60 * 60);

/// The name test trust roots are issued under.
pub const ROOT_NAME: &str = "root.linkerd.cluster.local";

/// A new trust root; its PEM is what proxies are given as trust anchors.
pub fn trust_root() -> SigningCa {
    match SigningCa::generate_root(ROOT_NAME, DAY) {
        Ok(root) => root,
        Err(e) => panic!("no trust root: {e}"),
    }
}

/// An issuer named `name` under `root`.
pub fn issuer(root: &SigningCa, name: &str) -> Issuer {
    match Issuer::generate(root, name, DAY) {
        Ok(issuer) => issuer,
        Err(e) => panic!("no issuer {name}: {e}"),
    }
}

/// A certifier of the default identity domain signing with a new issuer
/// under `root`: what an identity service is built on.
pub fn certifier(root: &SigningCa, issuer_name: &str) -> Arc<Certifier> {
    Arc::new(Certifier::new(
        issuer(root, issuer_name),
        IdentityDomain::default(),
    ))
}

#[cfg(test)]
mod tests;
