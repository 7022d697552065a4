//! What the security drill says on the wire: one HTTP/1.1 request over any
//! stream, TLS clients presenting forged or honestly obtained
//! certificates, and the control plane's identity and destination APIs
//! asked as a proxy asks them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::destination::destination_client::DestinationClient;
use linkerd2_proxy_api::destination::tls_identity::Strategy;
use linkerd2_proxy_api::destination::{GetDestination, update};
use linkerd2_proxy_api::identity::CertifyRequest;
use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::pki_types::{PrivatePkcs8KeyDer, ServerName};
use strait_identity::{Certifier, IdentityDomain, Issuer, SigningCa};
use strait_tls::{CertificateDer, Credentials, LocalIdentity, PrivateKeyDer, TrustRoots};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tonic::transport::{Channel, Endpoint};

/// How long one exchange (connect, handshake, request, answer) may take:
/// a proxy that neither answers nor closes is reported, not waited on.
pub(crate) const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the forged CA material is valid: the drill's lifetime is enough.
const FORGED_LIFETIME: Duration = Duration::from_secs(86_400);

/// What a server did with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// An HTTP answer: its status code, status line and the start of its body.
    Http {
        /// The status code.
        status: u16,
        /// The status line as sent.
        line: String,
        /// Up to the first 60 characters of the body.
        body: String,
    },
    /// No HTTP answer: the connection, handshake or read failed like this.
    Failed(String),
}

impl Answer {
    /// Whether the server answered 2xx: the request was served.
    pub(crate) fn served(&self) -> bool {
        matches!(self, Answer::Http { status, .. } if (200..300).contains(status))
    }

    /// Whether the answer is exactly a 403.
    pub(crate) fn forbidden(&self) -> bool {
        matches!(self, Answer::Http { status: 403, .. })
    }

    /// The answer quoted for the report.
    pub(crate) fn quote(&self) -> String {
        match self {
            Answer::Http { line, body, .. } if body.is_empty() => format!("`{line}`"),
            Answer::Http { line, body, .. } => format!("`{line}` with body {body:?}"),
            Answer::Failed(error) => error.clone(),
        }
    }
}

/// Reads an HTTP/1.1 answer from the bytes a server sent before it closed.
/// Bytes that are no HTTP status line are a failure quoting them.
pub(crate) fn parse_answer(bytes: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let line = head.lines().next().unwrap_or_default().trim().to_string();
    let status = line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.get(2..))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|code| code.parse::<u16>().ok());
    let Some(status) = status else {
        let shown: String = text.chars().take(60).collect();
        return Answer::Failed(format!("not an HTTP answer: {shown:?}"));
    };
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    let body = if chunked {
        // The first chunk: its size line, then its data.
        body.split_once("\r\n").map_or(body, |(_, data)| data)
    } else {
        body
    };
    let body = body.split("\r\n").next().unwrap_or_default();
    Answer::Http {
        status,
        line,
        body: body.chars().take(60).collect(),
    }
}

/// Sends `GET /` for `authority` with `Connection: close` and reads what
/// comes back until the server closes, all within [`EXCHANGE_TIMEOUT`].
/// A read that fails after an answer arrived (a TLS peer closing without
/// `close_notify`) keeps the answer.
pub(crate) async fn exchange<S>(io: &mut S, authority: &str) -> Answer
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: strait-reliability\r\nConnection: close\r\n\r\n"
    );
    exchange_raw(io, &request).await
}

/// Sends `request` as written (it must ask the server to close) and reads
/// the answer, as [`exchange`] does.
pub(crate) async fn exchange_raw<S>(io: &mut S, request: &str) -> Answer
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let exchanged = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        io.write_all(request.as_bytes())
            .await
            .map_err(|e| format!("writing the request failed: {e}"))?;
        io.flush()
            .await
            .map_err(|e| format!("writing the request failed: {e}"))?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match io.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(e) if answer.is_empty() => {
                    return Err(format!("reading the answer failed: {e}"));
                }
                Err(_) => break,
            }
        }
        if answer.is_empty() {
            return Err("the connection was closed without an answer".to_string());
        }
        Ok(answer)
    })
    .await;
    match exchanged {
        Ok(Ok(bytes)) => parse_answer(&bytes),
        Ok(Err(error)) => Answer::Failed(error),
        Err(_) => Answer::Failed(format!(
            "no answer and no close within {EXCHANGE_TIMEOUT:?}"
        )),
    }
}

/// A TCP connection to `to` from `source` (port chosen by the system).
pub(crate) async fn tcp_from(
    source: std::net::IpAddr,
    to: SocketAddr,
) -> Result<TcpStream, String> {
    let socket = if to.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .map_err(|e| format!("no socket: {e}"))?;
    socket
        .bind(SocketAddr::new(source, 0))
        .map_err(|e| format!("cannot bind {source}: {e}"))?;
    match tokio::time::timeout(EXCHANGE_TIMEOUT, socket.connect(to)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(format!("connecting to {to} failed: {e}")),
        Err(_) => Err(format!("connecting to {to} timed out")),
    }
}

/// A client certificate for `identity` under a trust anchor of its own,
/// with its private key: the forged anchor, an issuer under it and a leaf
/// made exactly as the mesh's identity service makes one, so the anchor is
/// the only thing wrong. The chain holds the leaf, the issuer and the
/// forged root too, in case a server trusted whatever root a peer sends.
pub(crate) struct Forged {
    /// Leaf first, then the forged issuer, then the forged root.
    pub(crate) chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
}

impl Forged {
    /// Forges the anchor, issuer and leaf in `domain` (`linkerd` /
    /// `cluster.local`, as the mesh's).
    pub(crate) fn new(
        identity: &str,
        control_plane_namespace: &str,
        trust_domain: &str,
    ) -> Result<Forged, String> {
        let root = SigningCa::generate_root(
            &format!("root.{control_plane_namespace}.{trust_domain}"),
            FORGED_LIFETIME,
        )
        .map_err(|e| format!("forged root: {e}"))?;
        let issuer = Issuer::generate(
            &root,
            &format!("identity.{control_plane_namespace}.{trust_domain}"),
            FORGED_LIFETIME,
        )
        .map_err(|e| format!("forged issuer: {e}"))?;
        let domain = IdentityDomain::new(control_plane_namespace, trust_domain)
            .map_err(|e| format!("identity domain: {e}"))?;
        let certifier = Certifier::new(issuer, domain);
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)
            .map_err(|e| format!("forged key: {e}"))?;
        let mut params = CertificateParams::new(vec![identity.to_string()])
            .map_err(|e| format!("{identity}: {e}"))?;
        params.distinguished_name = DistinguishedName::new();
        let csr = params
            .serialize_request(&key)
            .map_err(|e| format!("forged CSR: {e}"))?;
        let issued = certifier
            .issue(csr.der(), identity)
            .map_err(|e| format!("forged leaf: {e}"))?;
        let mut chain = vec![CertificateDer::from(issued.leaf_der)];
        chain.extend(issued.chain_der.into_iter().map(CertificateDer::from));
        chain.push(CertificateDer::from(root.certificate_der().to_vec()));
        Ok(Forged {
            chain,
            key: key.serialize_der(),
        })
    }

    /// A client configuration presenting the forged chain and verifying the
    /// server against the mesh's real anchors, as a meshed client proxy
    /// does (no ALPN: strait's proxies offer none).
    pub(crate) fn client_config(
        &self,
        server_roots: &TrustRoots,
    ) -> Result<Arc<rustls::ClientConfig>, String> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| format!("client configuration: {e}"))?
            .with_root_certificates(server_roots.root_store())
            .with_client_auth_cert(self.chain.clone(), key)
            .map_err(|e| format!("client configuration: {e}"))?;
        Ok(Arc::new(config))
    }
}

/// Opens TLS on `tcp` with `config`, expecting the server to prove
/// `server_identity`.
pub(crate) async fn tls_connect(
    tcp: TcpStream,
    config: Arc<rustls::ClientConfig>,
    server_identity: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let name = ServerName::try_from(server_identity.to_string())
        .map_err(|e| format!("{server_identity}: {e}"))?;
    match tokio::time::timeout(
        EXCHANGE_TIMEOUT,
        tokio_rustls::TlsConnector::from(config).connect(name, tcp),
    )
    .await
    {
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => Err(format!("TLS handshake failed: {e}")),
        Err(_) => Err("TLS handshake timed out".to_string()),
    }
}

/// A TLS connection to a local cluster's API server at `host`
/// (`127.0.0.1:PORT`), trusting its CA `ca_pem` and presenting nothing:
/// what a local process without the run's credentials can open.
pub(crate) async fn api_tls(
    host: &str,
    ca_pem: &str,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let roots =
        TrustRoots::from_pem("the API's CA", ca_pem.as_bytes()).map_err(|e| e.to_string())?;
    let config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("client configuration: {e}"))?
        .with_root_certificates(roots.root_store())
        .with_no_client_auth();
    let tcp = TcpStream::connect(host)
        .await
        .map_err(|e| format!("{host}: {e}"))?;
    let ip = host.rsplit_once(':').map_or(host, |(ip, _)| ip);
    tls_connect(tcp, Arc::new(config), ip).await
}

async fn channel(control_plane: SocketAddr) -> Result<Channel, String> {
    let endpoint = Endpoint::from_shared(format!("http://{control_plane}"))
        .map_err(|e| format!("{control_plane}: {e}"))?
        .connect_timeout(EXCHANGE_TIMEOUT);
    endpoint
        .connect()
        .await
        .map_err(|e| format!("cannot reach the control plane at {control_plane}: {e}"))
}

/// Asks the identity service at `control_plane` to certify `local` with
/// `token`, exactly as a proxy does, and checks the answer against
/// `roots`. A refusal is returned as `Err` quoting the gRPC status.
pub(crate) async fn certify(
    control_plane: SocketAddr,
    local: &LocalIdentity,
    token: Vec<u8>,
    roots: &TrustRoots,
) -> Result<Credentials, String> {
    let mut client = IdentityClient::new(channel(control_plane).await?);
    let request = CertifyRequest {
        identity: local.name().to_string(),
        token,
        certificate_signing_request: local.csr_der().to_vec(),
    };
    let response = tokio::time::timeout(EXCHANGE_TIMEOUT, client.certify(request))
        .await
        .map_err(|_| "the identity service did not answer in time".to_string())?
        .map_err(|status| format!("{:?}: {}", status.code(), status.message()))?
        .into_inner();
    Credentials::new(
        local,
        CertificateDer::from(response.leaf_certificate),
        response
            .intermediate_certificates
            .into_iter()
            .map(CertificateDer::from)
            .collect(),
        roots.clone(),
    )
    .map_err(|e| format!("the issued certificate is unusable: {e}"))
}

/// One endpoint as the destination service announced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Announced {
    /// Where a client is sent.
    pub(crate) addr: SocketAddr,
    /// The identity a client must verify there, if any.
    pub(crate) identity: Option<String>,
}

/// The first non-empty set of endpoints the destination service at
/// `control_plane` announces for `authority`, asked with the context token
/// of a pod in `namespace`. Waits at most `patience`.
pub(crate) async fn resolve(
    control_plane: SocketAddr,
    authority: &str,
    namespace: &str,
    patience: Duration,
) -> Result<Vec<Announced>, String> {
    let mut client = DestinationClient::new(channel(control_plane).await?);
    let request = GetDestination {
        scheme: "k8s".to_string(),
        path: authority.to_string(),
        context_token: serde_json::json!({"ns": namespace, "pod": "security-drill"}).to_string(),
    };
    let resolved = tokio::time::timeout(patience, async {
        let mut updates = client
            .get(request)
            .await
            .map_err(|status| {
                format!("Get {authority}: {:?}: {}", status.code(), status.message())
            })?
            .into_inner();
        loop {
            let next = updates.message().await.map_err(|status| {
                format!("Get {authority}: {:?}: {}", status.code(), status.message())
            })?;
            let Some(next) = next else {
                return Err(format!(
                    "Get {authority}: the stream ended without endpoints"
                ));
            };
            if let Some(update::Update::Add(set)) = next.update {
                let announced: Vec<Announced> = set
                    .addrs
                    .into_iter()
                    .filter_map(|addr| {
                        let at = SocketAddr::try_from(addr.addr?).ok()?;
                        let identity = addr.tls_identity.and_then(|id| match id.strategy? {
                            Strategy::DnsLikeIdentity(dns) => Some(dns.name),
                            Strategy::UriLikeIdentity(uri) => Some(uri.uri),
                        });
                        Some(Announced { addr: at, identity })
                    })
                    .collect();
                if !announced.is_empty() {
                    return Ok(announced);
                }
            }
        }
    })
    .await;
    resolved.unwrap_or_else(|_| Err(format!("Get {authority}: no endpoints within {patience:?}")))
}

/// The metrics text a proxy's admin server serves.
pub(crate) async fn scrape(admin: SocketAddr) -> Result<String, String> {
    let mut tcp = match tokio::time::timeout(EXCHANGE_TIMEOUT, TcpStream::connect(admin)).await {
        Ok(Ok(tcp)) => tcp,
        Ok(Err(e)) => return Err(format!("{admin}: {e}")),
        Err(_) => return Err(format!("{admin}: connect timed out")),
    };
    let request = format!("GET /metrics HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n");
    let read = tokio::time::timeout(EXCHANGE_TIMEOUT, async {
        tcp.write_all(request.as_bytes()).await?;
        let mut text = Vec::new();
        tcp.read_to_end(&mut text).await?;
        Ok::<_, std::io::Error>(text)
    })
    .await;
    match read {
        Ok(Ok(text)) => Ok(String::from_utf8_lossy(&text).into_owned()),
        Ok(Err(e)) => Err(format!("{admin}: {e}")),
        Err(_) => Err(format!("{admin}: no metrics within {EXCHANGE_TIMEOUT:?}")),
    }
}
