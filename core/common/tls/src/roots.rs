//! The mesh's trust anchors: the only certificates the proxy trusts.

use std::path::Path;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::error::{RootsProblem, TlsError};

/// The trust anchors of the mesh, shared by every cluster. A peer is
/// trusted only if its chain ends at one of these; no web or system roots
/// are ever added, so a certificate from any public CA is worthless inside
/// the mesh. A bundle may hold several anchors so one can be rotated in
/// before the old one is removed. Cloning is cheap.
#[derive(Clone, Debug)]
pub struct TrustRoots {
    source_name: Arc<str>,
    certs: Arc<[CertificateDer<'static>]>,
    store: Arc<RootCertStore>,
}

impl TrustRoots {
    /// Reads a PEM bundle of one or more CA certificates held in memory (an
    /// environment variable, a ConfigMap value); `source_name` appears in
    /// errors so the operator knows what to fix.
    pub fn from_pem(source_name: &str, pem: &[u8]) -> Result<TrustRoots, TlsError> {
        let invalid = |problem| TlsError::InvalidRoots {
            source_name: source_name.to_string(),
            problem,
        };
        let certs = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(RootsProblem::Pem(e)))?;
        if certs.is_empty() {
            return Err(invalid(RootsProblem::Empty));
        }
        let mut store = RootCertStore::empty();
        for (i, der) in certs.iter().enumerate() {
            let number = i + 1;
            let (_, cert) = x509_parser::parse_x509_certificate(der)
                .map_err(|source| invalid(RootsProblem::Parse { number, source }))?;
            if !cert.is_ca() {
                return Err(invalid(RootsProblem::NotCa {
                    number,
                    subject: cert.subject().to_string(),
                }));
            }
            store.add(der.clone()).map_err(|source| {
                invalid(RootsProblem::Unusable {
                    number,
                    subject: cert.subject().to_string(),
                    source,
                })
            })?;
        }
        Ok(TrustRoots {
            source_name: source_name.into(),
            certs: certs.into(),
            store: Arc::new(store),
        })
    }

    /// Reads a PEM bundle from `path` (Linkerd's `ca.crt`, a mounted trust
    /// anchor ConfigMap).
    pub fn from_pem_file(path: &Path) -> Result<TrustRoots, TlsError> {
        let pem = std::fs::read(path).map_err(|error| TlsError::ReadFile {
            path: path.to_path_buf(),
            error,
        })?;
        TrustRoots::from_pem(&path.display().to_string(), &pem)
    }

    /// The anchors, DER-encoded, in bundle order.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }

    /// The anchors as a rustls store, for verifiers.
    pub fn root_store(&self) -> Arc<RootCertStore> {
        self.store.clone()
    }

    /// Where the anchors came from, for messages.
    pub fn source_name(&self) -> &str {
        &self.source_name
    }
}

#[cfg(test)]
mod tests;
