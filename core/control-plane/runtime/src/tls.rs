//! The certificates a controller serves with, as Linkerd's do: identity
//! with a certificate from its own issuer, destination and policy with
//! certificates obtained through identity, like any proxy's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use rustls::ServerConfig;
use strait_backoff::Backoff;
use strait_control_plane::ServerTransport;
use strait_identity::Certifier;
use strait_tls::control::{ClientAuth, ControlTls, server_config};
use strait_tls::{
    CertificateDer, CertifyConfig, Credentials, LocalIdentity, TlsError, TokenSource, TrustRoots,
    certify_loop,
};
use tokio::sync::watch;

use crate::RuntimeError;
use crate::task::Scoped;

/// How a controller speaks to its clients.
#[derive(Clone, Debug)]
pub enum ControllerTls {
    /// Plaintext: only on a loopback address.
    Plaintext,
    /// TLS with certificates the identity controller issues itself for
    /// `name` (`linkerd-identity.<ns>.serviceaccount.identity.<ns>.<domain>`).
    SelfIssued {
        /// The identity service's own identity.
        name: String,
    },
    /// TLS with certificates from the identity service.
    Certified(Certification),
}

/// The tasks that keep a controller's certificate current; they stop when
/// this is dropped.
#[derive(Debug)]
pub struct Certifying {
    _tasks: Vec<Scoped>,
}

impl ControllerTls {
    /// The transport `what` serves with, and the tasks that keep its
    /// certificate current. Only the identity controller (which has
    /// `certifier`) issues its own.
    pub fn transport(
        &self,
        what: &'static str,
        certifier: Option<&Arc<Certifier>>,
    ) -> Result<(ServerTransport, Certifying), RuntimeError> {
        match (self, certifier) {
            (ControllerTls::Plaintext, _) => Ok((
                ServerTransport::Plaintext,
                Certifying { _tasks: Vec::new() },
            )),
            (ControllerTls::SelfIssued { name }, Some(certifier)) => {
                let (transport, task) = self_issued(certifier.clone(), name)?;
                Ok((transport, Certifying { _tasks: vec![task] }))
            }
            (ControllerTls::SelfIssued { .. }, None) => Err(RuntimeError::Tls {
                what,
                reason: "only the identity service issues its own certificate".into(),
            }),
            (ControllerTls::Certified(certification), _) => {
                let (transport, tasks) = certified(what, certification)?;
                Ok((transport, Certifying { _tasks: tasks }))
            }
        }
    }
}

/// How destination and policy obtain their certificates: as a proxy does,
/// from the identity service, with the controller's ServiceAccount token.
#[derive(Clone, Debug)]
pub struct Certification {
    /// The identity to ask for: the controller's ServiceAccount's.
    pub local_name: String,
    /// The projected ServiceAccount token (audience `identity.l5d.io`).
    pub token_file: PathBuf,
    /// PEM bundle of the trust anchors.
    pub trust_anchors_file: PathBuf,
    /// `host:port` of the identity service.
    pub identity_addr: String,
    /// The identity the identity service proves.
    pub identity_name: String,
}

/// The identity controller's certificates, issued by `certifier` itself
/// for `name` and renewed before they expire; clients present none (they
/// prove themselves with a token in the request).
fn self_issued(
    certifier: Arc<Certifier>,
    name: &str,
) -> Result<(ServerTransport, Scoped), RuntimeError> {
    let local = LocalIdentity::new(name).map_err(tls_error("identity"))?;
    let roots = TrustRoots::from_pem(
        certifier.issuer().trust_anchor().source_name(),
        certifier.issuer().trust_anchor().to_pem().as_bytes(),
    )
    .map_err(tls_error("identity"))?;
    let (publish, configs) = watch::channel(None);
    let task = tokio::spawn(async move {
        let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        loop {
            let wait = match issue_own(&certifier, &local, &roots) {
                Ok((config, expiry)) => {
                    publish.send_replace(Some(config));
                    backoff.reset();
                    tracing::info!(identity = %local.name(), "serving with a certificate from the issuer");
                    CertifyConfig::default().renew_in(expiry, SystemTime::now())
                }
                Err(error) => {
                    tracing::error!(identity = %local.name(), %error, "cannot issue the identity service's own certificate");
                    backoff.next_delay()
                }
            };
            tokio::time::sleep(wait).await;
        }
    });
    Ok((ServerTransport::Tls(configs), Scoped::new(task)))
}

fn issue_own(
    certifier: &Certifier,
    local: &LocalIdentity,
    roots: &TrustRoots,
) -> Result<(Arc<ServerConfig>, SystemTime), String> {
    let issued = certifier
        .issue(local.csr_der(), local.name())
        .map_err(|e| e.to_string())?;
    let credentials = Credentials::new(
        local,
        CertificateDer::from(issued.leaf_der),
        issued
            .chain_der
            .into_iter()
            .map(CertificateDer::from)
            .collect(),
        roots.clone(),
    )
    .map_err(|e| e.to_string())?;
    let config = server_config(&credentials, ClientAuth::None).map_err(|e| e.to_string())?;
    Ok((config, credentials.expiry()))
}

/// Destination's and policy's certificates: obtained from the identity
/// service and renewed, as a proxy's; only clients with certificates
/// under the same anchors are accepted.
fn certified(
    what: &'static str,
    certification: &Certification,
) -> Result<(ServerTransport, Vec<Scoped>), RuntimeError> {
    let roots =
        TrustRoots::from_pem_file(&certification.trust_anchors_file).map_err(tls_error(what))?;
    let local = LocalIdentity::new(&certification.local_name).map_err(tls_error(what))?;
    let channel = strait_tls::control::channel(
        "identity",
        &certification.identity_addr,
        ControlTls::Tls {
            server: certification.identity_name.clone(),
            roots: roots.clone(),
            client: None,
        },
    )
    .map_err(|e| RuntimeError::Tls {
        what,
        reason: e.to_string(),
    })?;
    let (publish, mut credentials) = watch::channel(None);
    let certifying = tokio::spawn(certify_loop(
        IdentityClient::new(channel),
        local,
        TokenSource::File(certification.token_file.clone()),
        roots,
        publish,
    ));
    let (set_config, configs) = watch::channel(None);
    let following = tokio::spawn(async move {
        loop {
            let current: Option<Arc<Credentials>> = credentials.borrow_and_update().clone();
            let config = current.and_then(|c| match server_config(&c, ClientAuth::Required) {
                Ok(config) => Some(config),
                Err(error) => {
                    tracing::error!(%error, "cannot serve with the new certificate");
                    None
                }
            });
            set_config.send_replace(config);
            if credentials.changed().await.is_err() {
                return;
            }
        }
    });
    Ok((
        ServerTransport::Tls(configs),
        vec![Scoped::new(certifying), Scoped::new(following)],
    ))
}

fn tls_error(what: &'static str) -> impl Fn(TlsError) -> RuntimeError {
    move |e| RuntimeError::Tls {
        what,
        reason: e.to_string(),
    }
}
