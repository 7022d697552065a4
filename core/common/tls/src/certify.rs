//! Obtaining and renewing the proxy's certificate from the identity service.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use linkerd2_proxy_api::identity::CertifyRequest;
use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use rustls_pki_types::CertificateDer;
use strait_backoff::Backoff;
use tokio::sync::watch;
use tonic::client::GrpcService;
use tonic::codegen::{Body, Bytes, StdError};

use crate::credentials::Credentials;
use crate::error::TlsError;
use crate::local::LocalIdentity;
use crate::roots::TrustRoots;

/// Where the proxy's service account token comes from; the identity service
/// decides from it which identity the proxy may have.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// A token handed over at start (the embedded runtime registers one per
    /// pod and passes it to the pod's proxy).
    Fixed(Vec<u8>),
    /// A file re-read before every request: Kubernetes rotates projected
    /// ServiceAccount tokens in place, and a cached copy would expire.
    File(PathBuf),
}

impl TokenSource {
    /// The token to send now. Surrounding whitespace (a trailing newline
    /// from an editor) is dropped; an empty token is an error, since the
    /// identity service would only refuse it.
    pub async fn read(&self) -> Result<Vec<u8>, TlsError> {
        let (source_name, bytes) = match self {
            TokenSource::Fixed(bytes) => ("(fixed)".to_string(), bytes.clone()),
            TokenSource::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|error| TlsError::ReadFile {
                        path: path.clone(),
                        error,
                    })?;
                (path.display().to_string(), bytes)
            }
        };
        let token = bytes.trim_ascii();
        if token.is_empty() {
            return Err(TlsError::Token {
                source_name,
                problem: "the token is empty".to_string(),
            });
        }
        Ok(token.to_vec())
    }
}

/// How often [`certify_loop_with_config`] retries and renews.
#[derive(Clone, Debug)]
pub struct CertifyConfig {
    /// The wait after a first failure; it doubles on each further failure.
    pub initial_backoff: Duration,
    /// The longest wait between attempts, so a proxy recovers soon after
    /// the identity service does.
    pub max_backoff: Duration,
    /// Which fraction of a leaf's remaining lifetime (counted from when it
    /// arrives) passes before it is renewed. Renewing early leaves time to
    /// retry before the certificate expires.
    pub renew_fraction: f64,
    /// The shortest wait before a renewal, so that leaves with very short
    /// lifetimes (an issuer about to expire caps them) do not make the
    /// proxy hammer the identity service.
    pub min_renew: Duration,
}

impl Default for CertifyConfig {
    /// 1 s doubling to 30 s between failed attempts; renewal at 70% of the
    /// lifetime, as Linkerd's proxy does; at least 1 s between renewals.
    fn default() -> Self {
        CertifyConfig {
            initial_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            renew_fraction: 0.7,
            min_renew: Duration::from_secs(1),
        }
    }
}

impl CertifyConfig {
    /// How long to wait before renewing credentials that expire at
    /// `expiry`, seen at `now`.
    pub fn renew_in(&self, expiry: SystemTime, now: SystemTime) -> Duration {
        let remaining = expiry.duration_since(now).unwrap_or_default();
        let fraction = if self.renew_fraction.is_finite() {
            self.renew_fraction.clamp(0.0, 1.0)
        } else {
            CertifyConfig::default().renew_fraction
        };
        remaining.mul_f64(fraction).max(self.min_renew)
    }
}

/// Certifies `local` with the identity service for as long as anyone
/// listens, with [`CertifyConfig::default`]; see [`certify_loop_with_config`].
pub async fn certify_loop<T>(
    client: IdentityClient<T>,
    local: LocalIdentity,
    token: TokenSource,
    roots: TrustRoots,
    publish: watch::Sender<Option<Arc<Credentials>>>,
) where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    certify_loop_with_config(
        client,
        local,
        token,
        roots,
        publish,
        CertifyConfig::default(),
    )
    .await
}

/// Certifies `local` with the identity service and publishes the resulting
/// [`Credentials`] on `publish`, renewing them before they expire, until
/// every receiver of `publish` is dropped.
///
/// Each attempt re-reads the token, sends `Certify` with the identity and
/// the CSR, and checks the answer with [`Credentials::new`] (nothing
/// unchecked is ever published). A failure (token unreadable, a gRPC error,
/// an unusable certificate) is logged with its cause and retried after a
/// backoff; credentials already published stay in use meanwhile, since they
/// remain valid until their expiry, and are withdrawn (`None`, so the proxy
/// reports not ready and presents no expired certificate) once they have
/// expired with no renewal. Nothing here panics: the proxy's
/// identity must survive an identity service that is down or misbehaving.
pub async fn certify_loop_with_config<T>(
    mut client: IdentityClient<T>,
    local: LocalIdentity,
    token: TokenSource,
    roots: TrustRoots,
    publish: watch::Sender<Option<Arc<Credentials>>>,
    config: CertifyConfig,
) where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    let identity = local.name().to_string();
    let mut backoff = Backoff::new(config.initial_backoff, config.max_backoff);
    // When the credentials published last expire.
    let mut published_expiry: Option<SystemTime> = None;
    loop {
        let attempt = tokio::select! {
            _ = publish.closed() => break,
            attempt = certify_once(&mut client, &local, &token, &roots) => attempt,
        };
        let wait = match attempt {
            Ok(credentials) => {
                let expiry = credentials.expiry();
                let renew_in = config.renew_in(expiry, SystemTime::now());
                publish.send_replace(Some(Arc::new(credentials)));
                published_expiry = Some(expiry);
                tracing::info!(
                    %identity,
                    expires_in = ?expiry.duration_since(SystemTime::now()).unwrap_or_default(),
                    ?renew_in,
                    "certified"
                );
                backoff.reset();
                renew_in
            }
            Err(error) => {
                let now = SystemTime::now();
                if published_expiry.is_some_and(|expiry| expiry <= now) {
                    // An expired certificate proves nothing to a peer: stop
                    // presenting it, and let `/ready` say the proxy has no
                    // identity until it is certified again.
                    publish.send_replace(None);
                    published_expiry = None;
                    tracing::error!(%identity, %error, "the certificate expired and could not be renewed; the proxy has no identity until certification succeeds");
                }
                // Retry with backoff, but wake at the expiry at the latest.
                let delay = backoff.next_delay();
                let until_expiry = published_expiry
                    .and_then(|expiry| expiry.duration_since(now).ok())
                    .unwrap_or(delay);
                let wait = delay.min(until_expiry);
                tracing::warn!(%identity, %error, retry_in = ?wait, "certification failed");
                wait
            }
        };
        tokio::select! {
            _ = publish.closed() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
    tracing::debug!(%identity, "no one uses the credentials any more; certification stops");
}

/// One `Certify` round trip, checked.
async fn certify_once<T>(
    client: &mut IdentityClient<T>,
    local: &LocalIdentity,
    token: &TokenSource,
    roots: &TrustRoots,
) -> Result<Credentials, TlsError>
where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    let token = token.read().await?;
    let request = CertifyRequest {
        identity: local.name().to_string(),
        token,
        certificate_signing_request: local.csr_der().to_vec(),
    };
    let response = client
        .certify(request)
        .await
        .map_err(|status| TlsError::Certify {
            identity: local.name().to_string(),
            code: status.code(),
            message: status.message().to_string(),
        })?
        .into_inner();
    let leaf = CertificateDer::from(response.leaf_certificate);
    let intermediates = response
        .intermediate_certificates
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    Credentials::new(local, leaf, intermediates, roots.clone())
}

/// Waits until credentials are published and returns them: what a proxy
/// does before it accepts or opens meshed connections. Waits forever if
/// the certifying side goes away without ever publishing; callers that
/// must not wait forever wrap this in a timeout.
pub async fn wait_for_credentials(
    rx: &mut watch::Receiver<Option<Arc<Credentials>>>,
) -> Arc<Credentials> {
    loop {
        if let Some(credentials) = rx.borrow_and_update().clone() {
            return credentials;
        }
        if rx.changed().await.is_err() {
            // The sender is gone; a value it left behind is still usable.
            if let Some(credentials) = rx.borrow().clone() {
                return credentials;
            }
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests;
