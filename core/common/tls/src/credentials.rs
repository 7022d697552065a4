//! A certified identity, and the rustls configurations built from it.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, ServerConfig, SupportedProtocolVersion};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use x509_parser::extensions::GeneralName;

use crate::error::{CertificateProblem, ConfigProblem, TlsError};
use crate::local::LocalIdentity;
use crate::roots::TrustRoots;

/// TLS 1.3 only, as Linkerd's proxies speak it: every mesh peer can, and
/// offering 1.2 would only let a downgrade reach its weaker suites.
pub(crate) static PROTOCOL_VERSIONS: &[&SupportedProtocolVersion] = &[&rustls::version::TLS13];

/// What a proxy needs to speak mTLS: its certificate chain, its key and the
/// trust roots, checked together when built. The rustls configurations are
/// built once, here, so that every connection shares them and a problem is
/// found when the certificate arrives instead of on the first connection.
/// A renewal builds new credentials; connections made with the old ones
/// keep them.
pub struct Credentials {
    identity: String,
    chain: Vec<CertificateDer<'static>>,
    expiry: SystemTime,
    roots: TrustRoots,
    /// Kept for the configurations built on demand (the control plane's
    /// servers, which require client certificates); never printed.
    key: Arc<PrivateKeyDer<'static>>,
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    /// The client configuration offering [`crate::MESH_ALPN`], for
    /// connections that start with a transport header.
    transport_client: Arc<ClientConfig>,
}

impl std::fmt::Debug for Credentials {
    /// Leaves the key out, so a debug log never leaks it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("identity", &self.identity)
            .field("expiry", &self.expiry)
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Accepts `leaf` (with `intermediates`, leaf-side first) as the
    /// certificate of `local`, after checking what the proxy must not take
    /// on trust even from its identity service: the leaf parses, its first
    /// DNS SAN is exactly our identity, it certifies our public key, and it
    /// chains to `roots` through `intermediates` for both server and client
    /// use, valid now.
    pub fn new(
        local: &LocalIdentity,
        leaf: CertificateDer<'static>,
        intermediates: Vec<CertificateDer<'static>>,
        roots: TrustRoots,
    ) -> Result<Credentials, TlsError> {
        let identity = local.name().to_string();
        let invalid = |problem| TlsError::InvalidCertificate {
            identity: identity.clone(),
            problem,
        };
        let (_, cert) = x509_parser::parse_x509_certificate(&leaf)
            .map_err(|e| invalid(CertificateProblem::Parse(e)))?;
        match first_dns_san(&cert) {
            Some(name) if name == identity => {}
            Some(name) => return Err(invalid(CertificateProblem::OtherName(name))),
            None => return Err(invalid(CertificateProblem::NoDnsSan)),
        }
        if cert.tbs_certificate.subject_pki.raw != local.public_key_der() {
            return Err(invalid(CertificateProblem::OtherKey));
        }
        let not_after = cert.validity().not_after.timestamp();
        let expiry = u64::try_from(not_after)
            .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
            .map_err(|_| invalid(CertificateProblem::BeforeEpoch(not_after)))?;

        verify_chain(&leaf, &intermediates, &roots, &identity).map_err(invalid)?;

        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(leaf);
        chain.extend(intermediates);
        let server = server_config(&identity, &chain, local, &roots)?;
        let client = client_config(&identity, &chain, local, &roots)?;
        let transport_client = Arc::new(with_mesh_alpn(client.as_ref()));
        Ok(Credentials {
            identity,
            chain,
            expiry,
            roots,
            key: Arc::new(local.private_key()),
            server,
            client,
            transport_client,
        })
    }

    /// For accepting: presents our chain and asks the client for its
    /// certificate, verified against the trust roots only. A client without
    /// one is still accepted (it is unmeshed; policy decides what it may
    /// do). No ALPN is required; a hello offering only protocols other than
    /// [`crate::MESH_ALPN`] is refused before this is used. A client that
    /// offers it gets it negotiated, which tells the inbound side that a
    /// transport header comes first (see [`crate::Accepted::transport_header`]).
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.server.clone()
    }

    /// For connecting: presents our chain and verifies the server's against
    /// the trust roots only. The identity the server must have is the
    /// `ServerName` given to the connector, so webpki's name check is the
    /// identity check.
    pub fn client_config(&self) -> Arc<ClientConfig> {
        self.client.clone()
    }

    /// [`Credentials::client_config`] offering [`crate::MESH_ALPN`]: for
    /// opaque connections sent to a peer proxy's inbound port, which open
    /// with a transport header. The server sees the protocol negotiated
    /// and reads the header; a hello without it would be served as the
    /// inbound port's own traffic.
    pub fn transport_client_config(&self) -> Arc<ClientConfig> {
        self.transport_client.clone()
    }

    /// The identity these credentials prove.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// When the leaf expires; renewal happens well before.
    pub fn expiry(&self) -> SystemTime {
        self.expiry
    }

    /// The chain presented to peers: the leaf first, then intermediates.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The trust roots peers are verified against.
    pub fn roots(&self) -> &TrustRoots {
        &self.roots
    }

    /// The private key, for configurations other than the two built here.
    pub(crate) fn private_key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }
}

/// The first DNS SAN of a parsed certificate: the identity, in Linkerd's
/// scheme.
pub(crate) fn first_dns_san(
    cert: &x509_parser::certificate::X509Certificate<'_>,
) -> Option<String> {
    let san = cert.subject_alternative_name().ok()??;
    san.value.general_names.iter().find_map(|name| match name {
        GeneralName::DNSName(dns) => Some((*dns).to_string()),
        _ => None,
    })
}

fn verify_chain(
    leaf: &CertificateDer<'static>,
    intermediates: &[CertificateDer<'static>],
    roots: &TrustRoots,
    identity: &str,
) -> Result<(), CertificateProblem> {
    let ee = webpki::EndEntityCert::try_from(leaf).map_err(CertificateProblem::EndEntity)?;
    let store = roots.root_store();
    let now = UnixTime::now();
    for (usage, what) in [
        (webpki::KeyUsage::server_auth(), "server"),
        (webpki::KeyUsage::client_auth(), "client"),
    ] {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &store.roots,
            intermediates,
            now,
            usage,
            None,
            None,
        )
        .map_err(|source| CertificateProblem::Chain {
            usage: what,
            roots: roots.source_name().to_string(),
            source,
        })?;
    }
    let name =
        ServerName::try_from(identity).map_err(|source| CertificateProblem::IdentityName {
            identity: identity.to_string(),
            source,
        })?;
    ee.verify_is_valid_for_subject_name(&name)
        .map_err(|source| CertificateProblem::Subject {
            identity: identity.to_string(),
            source,
        })
}

fn server_config(
    identity: &str,
    chain: &[CertificateDer<'static>],
    local: &LocalIdentity,
    roots: &TrustRoots,
) -> Result<Arc<ServerConfig>, TlsError> {
    let err = |error| TlsError::Config {
        what: "server",
        identity: identity.to_string(),
        error,
    };
    let rustls = |e| err(ConfigProblem::Rustls(e));
    let provider = crate::crypto_provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots.root_store(), provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| err(ConfigProblem::Verifier(e)))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(rustls)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain.to_vec(), local.private_key())
        .map_err(rustls)?;
    Ok(Arc::new(with_mesh_alpn(&config)))
}

fn client_config(
    identity: &str,
    chain: &[CertificateDer<'static>],
    local: &LocalIdentity,
    roots: &TrustRoots,
) -> Result<Arc<ClientConfig>, TlsError> {
    let err = |e| TlsError::Config {
        what: "client",
        identity: identity.to_string(),
        error: ConfigProblem::Rustls(e),
    };
    let config = ClientConfig::builder_with_provider(crate::crypto_provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(err)?
        .with_root_certificates(roots.root_store())
        .with_client_auth_cert(chain.to_vec(), local.private_key())
        .map_err(err)?;
    Ok(Arc::new(config))
}

/// A server or client configuration that negotiates (or offers) only
/// Linkerd's transport protocol. On a server, clients offering no ALPN
/// still handshake and negotiate none.
trait AlpnConfig: Clone {
    fn set_alpn(&mut self, protocols: Vec<Vec<u8>>);
}

impl AlpnConfig for ServerConfig {
    fn set_alpn(&mut self, protocols: Vec<Vec<u8>>) {
        self.alpn_protocols = protocols;
    }
}

impl AlpnConfig for ClientConfig {
    fn set_alpn(&mut self, protocols: Vec<Vec<u8>>) {
        self.alpn_protocols = protocols;
    }
}

fn with_mesh_alpn<C: AlpnConfig>(config: &C) -> C {
    let mut config = config.clone();
    config.set_alpn(vec![crate::MESH_ALPN.to_vec()]);
    config
}

#[cfg(test)]
mod tests;
