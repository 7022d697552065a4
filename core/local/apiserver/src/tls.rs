//! The API server's TLS: a CA made for each run, and the serving
//! certificate it signs for the loopback names the API is reached at. The
//! CA's certificate goes into the kubeconfig (`certificate-authority-data`),
//! so kubectl and kube-rs verify the server as they verify any cluster's;
//! its key never leaves the process.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PKCS_ECDSA_P256_SHA256, SanType,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// How long a run's certificates are valid: far longer than any run.
const LIFETIME: Duration = Duration::from_secs(365 * 86_400);

/// The TLS material could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating a key or a certificate failed.
    #[error("generating the API server's {what}: {source}")]
    Generate {
        /// The CA or the serving certificate.
        what: &'static str,
        /// Why.
        source: rcgen::Error,
    },
    /// rustls refused the configuration.
    #[error("the API server's TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// A run's CA and the serving certificate it signed.
pub struct ServingTls {
    ca_pem: String,
    config: Arc<ServerConfig>,
}

impl std::fmt::Debug for ServingTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServingTls").finish_non_exhaustive()
    }
}

impl ServingTls {
    /// A new CA named after `cluster`, and a serving certificate for
    /// `localhost`, `127.0.0.1` and `::1`.
    pub fn generate(cluster: &str) -> Result<Self, TlsError> {
        let ca_fail = |source| TlsError::Generate { what: "CA", source };
        let ca_key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(ca_fail)?;
        let mut ca_params = CertificateParams::default();
        ca_params.distinguished_name = name(&format!("strait-local-ca-{cluster}"));
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        validity(&mut ca_params);
        let ca_cert = ca_params.self_signed(&ca_key).map_err(ca_fail)?;
        let ca = Issuer::new(ca_params, ca_key);

        let fail = |source| TlsError::Generate {
            what: "serving certificate",
            source,
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(fail)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name("kube-apiserver");
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(fail)?),
            SanType::IpAddress(IpAddr::from([127, 0, 0, 1])),
            SanType::IpAddress(IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])),
        ];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        validity(&mut params);
        let cert = params.signed_by(&key, &ca).map_err(fail)?;

        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(strait_tls::crypto_provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, private)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServingTls {
            ca_pem: ca_cert.pem(),
            config: Arc::new(config),
        })
    }

    /// The CA's certificate, PEM: what clients trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The server side of the handshake.
    pub fn server_config(&self) -> Arc<ServerConfig> {
        self.config.clone()
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name
}

fn validity(params: &mut CertificateParams) {
    let now = time_now();
    params.not_before = now - time::Duration::minutes(5);
    params.not_after = now + time::Duration::seconds(LIFETIME.as_secs() as i64);
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}
