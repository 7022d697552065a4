//! `Certify` over a real socket: a tonic server on loopback, a tonic client,
//! and leaves verified against the trust anchor with webpki.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use linkerd2_proxy_api::identity::{CertifyRequest, CertifyResponse};
use rcgen::{
    CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384,
    PKCS_ED25519, SignatureAlgorithm,
};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use strait_identity::{
    Certifier, EmbeddedTokens, IdentityDomain, IdentityService, Issuer, ServiceAccountRef,
    SigningCa,
};
use tonic::Code;
use tonic::transport::{Channel, Server};
use x509_parser::extensions::GeneralName;

const ID: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
const TOKEN: &[u8] = b"slow-cooker-token";
const DAY: Duration = Duration::from_secs(24 * 60 * 60);

struct Mesh {
    root: SigningCa,
    issuer_der: Vec<u8>,
    client: IdentityClient<Channel>,
}

async fn start() -> Mesh {
    let root = SigningCa::generate_root("root.linkerd.cluster.local", 365 * DAY).expect("root");
    let issuer =
        Issuer::generate(&root, "identity.linkerd.cluster.local", 30 * DAY).expect("issuer");
    let issuer_der = issuer.ca().certificate_der().to_vec();
    let certifier = Arc::new(Certifier::new(issuer, IdentityDomain::default()));
    let tokens = EmbeddedTokens::new();
    tokens.register(TOKEN, ServiceAccountRef::new("mc-demo", "slow-cooker"));

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let service = IdentityService::new(certifier, tokens).into_server();
    tokio::spawn(
        Server::builder()
            .add_service(service)
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    let client = IdentityClient::connect(format!("http://{addr}"))
        .await
        .expect("connect");
    Mesh {
        root,
        issuer_der,
        client,
    }
}

fn csr(alg: &'static SignatureAlgorithm, san: &str) -> Vec<u8> {
    let key = KeyPair::generate_for(alg).expect("key");
    let mut params = CertificateParams::new(vec![san.to_string()]).expect("params");
    params.distinguished_name = DistinguishedName::new();
    params.serialize_request(&key).expect("csr").der().to_vec()
}

async fn certify(
    mesh: &mut Mesh,
    identity: &str,
    token: &[u8],
    csr: Vec<u8>,
) -> Result<CertifyResponse, tonic::Status> {
    mesh.client
        .certify(CertifyRequest {
            identity: identity.to_string(),
            token: token.to_vec(),
            certificate_signing_request: csr,
        })
        .await
        .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn a_good_request_gets_a_leaf_that_verifies_against_the_anchor() {
    let mut mesh = start().await;
    let rsp = certify(&mut mesh, ID, TOKEN, csr(&PKCS_ECDSA_P256_SHA256, ID))
        .await
        .expect("issued");
    assert_eq!(rsp.intermediate_certificates, vec![mesh.issuer_der.clone()]);

    // The leaf names exactly the identity, is not a CA, and ends about a day from now.
    let (_, leaf) = x509_parser::parse_x509_certificate(&rsp.leaf_certificate).expect("leaf");
    let san = leaf
        .subject_alternative_name()
        .expect("san ext")
        .expect("san present");
    assert_eq!(san.value.general_names, vec![GeneralName::DNSName(ID)]);
    assert!(!leaf.is_ca());
    let valid_until = rsp.valid_until.expect("valid_until");
    let lifetime = valid_until.seconds - now_secs();
    assert!((DAY.as_secs() as i64 - 60..=DAY.as_secs() as i64).contains(&lifetime));
    assert_eq!(leaf.validity().not_after.timestamp(), valid_until.seconds);

    // The chain verifies for both client and server use, and for the identity's name.
    let anchor_der = CertificateDer::from(mesh.root.certificate_der().to_vec());
    let anchors = [webpki::anchor_from_trusted_cert(&anchor_der).expect("anchor")];
    let leaf_der = CertificateDer::from(rsp.leaf_certificate.clone());
    let intermediates: Vec<CertificateDer<'_>> = rsp
        .intermediate_certificates
        .iter()
        .map(|der| CertificateDer::from(der.clone()))
        .collect();
    let ee = webpki::EndEntityCert::try_from(&leaf_der).expect("end entity");
    for usage in [
        webpki::KeyUsage::client_auth(),
        webpki::KeyUsage::server_auth(),
    ] {
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            UnixTime::now(),
            usage,
            None,
            None,
        )
        .expect("chains to the anchor");
    }
    ee.verify_is_valid_for_subject_name(&ServerName::try_from(ID).expect("dns name"))
        .expect("valid for the identity");

    // Another root does not accept it.
    let other = SigningCa::generate_root("other", DAY).expect("other root");
    let other_der = CertificateDer::from(other.certificate_der().to_vec());
    let other_anchors = [webpki::anchor_from_trusted_cert(&other_der).expect("anchor")];
    assert!(
        ee.verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &other_anchors,
            &intermediates,
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .is_err()
    );
}

#[tokio::test]
async fn a_wrong_identity_is_invalid_argument() {
    let mut mesh = start().await;
    let other = "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local";
    let status = certify(&mut mesh, other, TOKEN, csr(&PKCS_ECDSA_P256_SHA256, other))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains(other), "{status:?}");
    assert!(status.message().contains(ID), "{status:?}");

    // The right identity in the request but another name in the CSR.
    let status = certify(&mut mesh, ID, TOKEN, csr(&PKCS_ECDSA_P256_SHA256, other))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("wrong identity"), "{status:?}");
}

#[tokio::test]
async fn a_bad_token_is_unauthenticated() {
    let mut mesh = start().await;
    let status = certify(&mut mesh, ID, b"forged", csr(&PKCS_ECDSA_P256_SHA256, ID))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert!(status.message().contains("token"), "{status:?}");
}

#[tokio::test]
async fn garbage_csr_bytes_are_invalid_argument() {
    let mut mesh = start().await;
    let status = certify(&mut mesh, ID, TOKEN, b"definitely not DER".to_vec())
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("malformed"), "{status:?}");
}

#[tokio::test]
async fn keys_other_than_p256_are_invalid_argument() {
    let mut mesh = start().await;
    for (alg, name) in [
        (&PKCS_ECDSA_P384_SHA384, "ECDSA P-384"),
        (&PKCS_ED25519, "Ed25519"),
    ] {
        let status = certify(&mut mesh, ID, TOKEN, csr(alg, ID))
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
        assert!(status.message().contains(name), "{status:?}");
        assert!(status.message().contains("only ECDSA P-256"), "{status:?}");
    }
}

#[test]
fn an_issuer_from_another_anchor_is_refused_at_load() {
    let root = SigningCa::generate_root("root", DAY).expect("root");
    let other = SigningCa::generate_root("other", DAY).expect("other");
    let ca = SigningCa::from_pem(
        "issuer.crt",
        other
            .generate_intermediate("issuer", DAY)
            .expect("ca")
            .certificate_pem()
            .as_bytes(),
        "issuer.key",
        b"",
    );
    // An empty key file is reported against the key file.
    let err = ca.expect_err("empty key");
    assert!(err.to_string().starts_with("issuer.key:"), "{err}");

    let ca = other.generate_intermediate("issuer", DAY).expect("ca");
    let ca = SigningCa::from_pem(
        "issuer.crt",
        ca.certificate_pem().as_bytes(),
        "issuer.key",
        ca.key_pem().as_bytes(),
    )
    .expect("a CA on its own");
    let err = Issuer::new(root.as_trust_anchor(), ca).expect_err("does not chain");
    let msg = err.to_string();
    assert!(msg.starts_with("issuer.crt:"), "{msg}");
    assert!(msg.contains("does not chain to the trust anchor"), "{msg}");
}

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
