//! Handshakes between `accept` and `connect` over real loopback sockets.

mod support;

use std::sync::Arc;
use std::time::Duration;

use strait_tls::{
    Accepted, Credentials, NoTlsReason, TlsError, TlsStatus, TrustRoots, accept, connect,
    connect_transport, peer_identity,
};
use support::{DAY, Mesh, identity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const DETECT: Duration = Duration::from_secs(5);
const LIMIT: Duration = Duration::from_secs(10);

/// A listener whose first accepted connection goes through `accept`.
async fn server(
    creds: Arc<Credentials>,
    detect: Duration,
) -> (std::net::SocketAddr, JoinHandle<Result<Accepted, TlsError>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        accept(stream, &creds, detect).await
    });
    (addr, task)
}

async fn accepted(task: JoinHandle<Result<Accepted, TlsError>>) -> Result<Accepted, TlsError> {
    tokio::time::timeout(LIMIT, task)
        .await
        .expect("accept finished")
        .expect("no panic")
}

#[tokio::test]
async fn meshed_peers_handshake_see_each_others_identity_and_exchange_bytes() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let client_id = identity("emojivoto", "vote-bot");
    let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;

    let client_creds = mesh.credentials(&client_id);
    let client = async {
        let tcp = TcpStream::connect(addr).await.expect("tcp");
        let mut tls = connect(tcp, &client_creds, &server_id)
            .await
            .expect("connect");
        let seen = peer_identity(tls.get_ref().1.peer_certificates().expect("server certs"));
        assert_eq!(seen.as_deref(), Some(server_id.as_str()));
        tls.write_all(b"ping").await.expect("write");
        let mut buf = [0u8; 4];
        tls.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"pong");
    };
    let server = async {
        let mut accepted = accepted(task).await.expect("handshake");
        assert_eq!(accepted.tls, TlsStatus::Established);
        assert_eq!(
            accepted.client_identity.as_deref(),
            Some(client_id.as_str())
        );
        assert!(accepted.peer_addr.ip().is_loopback());
        let mut buf = [0u8; 4];
        accepted.io.read_exact(&mut buf).await.expect("read");
        assert_eq!(&buf, b"ping");
        accepted.io.write_all(b"pong").await.expect("write");
        accepted.io.flush().await.expect("flush");
        accepted
    };
    let (_, _accepted) = tokio::time::timeout(LIMIT, async { tokio::join!(client, server) })
        .await
        .expect("exchange finished");
}

#[tokio::test]
async fn connecting_with_the_wrong_expected_identity_fails() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let expected = identity("emojivoto", "voting");
    // A server that answers any hello with its certificate (a proxy would
    // pass a hello for another name through): the client's own check of
    // the name is what must fail.
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let server_config = mesh.credentials(&server_id).server_config();
    let task = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        tokio_rustls::TlsAcceptor::from(server_config)
            .accept(stream)
            .await
    });
    let client_creds = mesh.credentials(&identity("emojivoto", "vote-bot"));

    let tcp = TcpStream::connect(addr).await.expect("tcp");
    let err = connect(tcp, &client_creds, &expected)
        .await
        .expect_err("name mismatch");
    let msg = err.to_string();
    assert!(msg.contains(&expected), "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
    let served = tokio::time::timeout(LIMIT, task).await.expect("served");
    assert!(
        served.expect("no panic").is_err(),
        "the server sees the abort"
    );
}

#[tokio::test]
async fn a_server_from_another_trust_anchor_is_refused() {
    let mesh = Mesh::new(DAY);
    let elsewhere = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let (addr, task) = server(elsewhere.credentials(&server_id), DETECT).await;
    let client_creds = mesh.credentials(&identity("emojivoto", "vote-bot"));

    let tcp = TcpStream::connect(addr).await.expect("tcp");
    let err = connect(tcp, &client_creds, &server_id)
        .await
        .expect_err("untrusted server");
    let msg = err.to_string();
    assert!(msg.contains("TLS handshake with"), "{msg}");
    assert!(msg.contains(&server_id), "{msg}");
    assert!(accepted(task).await.is_err());
}

#[tokio::test]
async fn a_client_from_another_trust_anchor_is_refused() {
    let mesh = Mesh::new(DAY);
    let elsewhere = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;

    // The client trusts both anchors (so it accepts the server), but its own
    // certificate comes from the anchor the server does not trust.
    let both = format!(
        "{}{}",
        mesh.root.certificate_pem(),
        elsewhere.root.certificate_pem()
    );
    let both = TrustRoots::from_pem("both.crt", both.as_bytes()).expect("roots");
    let client_creds = elsewhere.credentials_trusting(&identity("emojivoto", "vote-bot"), both);

    let tcp = TcpStream::connect(addr).await.expect("tcp");
    // With TLS 1.3 the client may finish before the server has judged its
    // certificate; the refusal then shows up on the first read.
    let client_failed = match connect(tcp, &client_creds, &server_id).await {
        Err(_) => true,
        Ok(mut tls) => {
            let _ = tls.write_all(b"ping").await;
            let mut buf = [0u8; 1];
            !matches!(
                tokio::time::timeout(LIMIT, tls.read(&mut buf)).await,
                Ok(Ok(1))
            )
        }
    };
    assert!(client_failed);
    let err = accepted(task).await.expect_err("untrusted client");
    let msg = err.to_string();
    assert!(msg.contains("TLS handshake with 127.0.0.1:"), "{msg}");
}

#[tokio::test]
async fn plaintext_is_detected_without_consuming_it() {
    let mesh = Mesh::new(DAY);
    let (addr, task) = server(mesh.credentials(&identity("emojivoto", "web")), DETECT).await;
    let request = b"GET / HTTP/1.1\r\nHost: web\r\n\r\n";
    let mut tcp = TcpStream::connect(addr).await.expect("tcp");
    tcp.write_all(request).await.expect("write");
    tcp.shutdown().await.expect("shutdown");

    let mut accepted = accepted(task).await.expect("plaintext accepted");
    assert_eq!(
        accepted.tls,
        TlsStatus::NotTls(NoTlsReason::NoTlsFromRemote)
    );
    assert_eq!(accepted.client_identity, None);
    let mut read = Vec::new();
    accepted.io.read_to_end(&mut read).await.expect("read");
    assert_eq!(read, request);
}

#[tokio::test]
async fn a_silent_client_is_handed_over_as_plaintext_after_the_timeout() {
    let mesh = Mesh::new(DAY);
    let detect = Duration::from_millis(200);
    let (addr, task) = server(mesh.credentials(&identity("emojivoto", "web")), detect).await;
    let mut tcp = TcpStream::connect(addr).await.expect("tcp");

    let started = tokio::time::Instant::now();
    let mut accepted = accepted(task).await.expect("accepted");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert!(!accepted.tls.is_tls());
    // Whatever the client sends later is all there.
    tcp.write_all(b"late").await.expect("write");
    let mut buf = [0u8; 4];
    accepted.io.read_exact(&mut buf).await.expect("read");
    assert_eq!(&buf, b"late");
}

#[tokio::test]
async fn a_tls_client_without_a_certificate_is_accepted_without_identity() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;

    let config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(mesh.roots.root_store())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.expect("tcp");
    let name = rustls_pki_types::ServerName::try_from(server_id.clone()).expect("name");
    let mut tls = connector.connect(name, tcp).await.expect("handshake");
    tls.write_all(b"hi").await.expect("write");

    let mut accepted = accepted(task).await.expect("accepted");
    assert_eq!(accepted.tls, TlsStatus::Established);
    assert_eq!(accepted.client_identity, None);
    let mut buf = [0u8; 2];
    accepted.io.read_exact(&mut buf).await.expect("read");
    assert_eq!(&buf, b"hi");
}

/// A client that can only speak TLS 1.2 (a downgrade, or a peer that
/// would take 1.2's weaker suites) gets no handshake: the mesh speaks 1.3
/// only, as Linkerd's proxies do.
#[tokio::test]
async fn a_tls12_only_client_is_refused() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;

    let config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
        .with_protocol_versions(&[&rustls::version::TLS12])
        .expect("versions")
        .with_root_certificates(mesh.roots.root_store())
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.expect("tcp");
    let name = rustls_pki_types::ServerName::try_from(server_id).expect("name");
    let client = connector.connect(name, tcp).await;
    assert!(client.is_err(), "a TLS 1.2 handshake must fail");
    let server = accepted(task).await;
    assert!(
        matches!(server, Err(TlsError::Handshake { .. })),
        "the server refuses the handshake: {server:?}"
    );
}

/// A hello the mesh never sends is the application's own TLS: SNI for
/// another name or none, or only application protocols no mesh connection
/// uses (a browser's `h2` and `http/1.1`, another mesh's). It is not
/// terminated, so the client never gets this proxy's certificate as if it
/// were the server it asked for; it is passed through untouched (the hello
/// is still the first thing read), without mesh identity. A hello naming
/// the proxy and offering Linkerd's transport protocol, or none, is
/// terminated.
#[tokio::test]
async fn a_hello_the_mesh_never_sends_is_passed_through_untouched() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let cases: [(&str, &[&[u8]], bool); 6] = [
        ("api.example.com", &[], false),
        ("127.0.0.1", &[], false),
        (&server_id, &[b"h2", b"http/1.1"], false),
        (&server_id, &[b"istio-peer-exchange"], false),
        (&server_id, &[b"h2", strait_tls::MESH_ALPN], true),
        (&server_id, &[], true),
    ];
    for (asked, alpn, terminated) in cases {
        let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;
        let mut config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_root_certificates(mesh.roots.root_store())
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await.expect("tcp");
        let name = rustls_pki_types::ServerName::try_from(asked.to_string()).expect("name");
        let case = format!("{asked} {alpn:?}");
        if terminated {
            let client = connector.connect(name, tcp).await;
            let server = accepted(task).await;
            assert!(client.is_ok(), "{case}: handshake: {client:?}");
            let server = server.unwrap_or_else(|e| panic!("{case}: accepted: {e}"));
            assert_eq!(server.tls, TlsStatus::Established, "{case}");
            continue;
        }
        // The client waits for an answer the proxy never gives; what the
        // proxy hands on is the client's hello, unread.
        let client = tokio::spawn(async move { connector.connect(name, tcp).await });
        let mut server = accepted(task)
            .await
            .unwrap_or_else(|e| panic!("{case}: passed through: {e}"));
        assert_eq!(
            server.tls,
            TlsStatus::NotTls(NoTlsReason::Passthru),
            "{case}"
        );
        assert_eq!(server.client_identity, None, "{case}");
        let mut record = [0u8; 3];
        server.io.read_exact(&mut record).await.expect("the hello");
        assert_eq!(record, [0x16, 0x03, 0x01], "{case}: a handshake record");
        drop(server);
        assert!(client.await.expect("client task").is_err(), "{case}");
    }
}

/// A client offering Linkerd's transport protocol gets it negotiated, and
/// the server is told a transport header follows; a mesh client that does
/// not offer it is told nothing of the sort.
#[tokio::test]
async fn the_transport_protocol_is_negotiated_only_when_offered() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let client_creds = mesh.credentials(&identity("emojivoto", "vote-bot"));
    for offered in [true, false] {
        let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;
        let tcp = TcpStream::connect(addr).await.expect("tcp");
        let tls = if offered {
            connect_transport(tcp, &client_creds, &server_id).await
        } else {
            connect(tcp, &client_creds, &server_id).await
        }
        .expect("handshake");
        let negotiated = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        let server = accepted(task).await.expect("accepted");
        assert_eq!(server.transport_header, offered);
        assert_eq!(negotiated.is_some(), offered);
    }
}

/// A client without a certificate may still negotiate the protocol: the
/// server learns it has no identity, and the inbound side refuses it.
#[tokio::test]
async fn an_anonymous_client_offering_the_transport_protocol_has_no_identity() {
    let mesh = Mesh::new(DAY);
    let server_id = identity("emojivoto", "web");
    let (addr, task) = server(mesh.credentials(&server_id), DETECT).await;
    let mut config = rustls::ClientConfig::builder_with_provider(strait_tls::crypto_provider())
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(mesh.roots.root_store())
        .with_no_client_auth();
    config.alpn_protocols = vec![strait_tls::MESH_ALPN.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(addr).await.expect("tcp");
    let name = rustls_pki_types::ServerName::try_from(server_id).expect("name");
    let _client = connector.connect(name, tcp).await.expect("handshake");
    let server = accepted(task).await.expect("accepted");
    assert!(server.transport_header);
    assert_eq!(server.client_identity, None);
}
