//! `Identity.Certify` end to end: a tonic client on loopback asking for
//! certificates with a valid token and CSR, the server (token check, CSR
//! checks, signing, gRPC) confined to one single-threaded runtime, so the
//! figure is certificates per second on one server core.
//!
//! `cargo bench -p strait-control-plane --bench certify`

use std::sync::Arc;
use std::time::{Duration, Instant};

use linkerd2_proxy_api::identity::CertifyRequest;
use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256};
use strait_control_plane::ControlPlane;
use strait_identity::{
    Certifier, EmbeddedTokens, IdentityDomain, Issuer, ServiceAccountRef, SigningCa,
};
use tonic::transport::Channel;

const IDENTITY: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
const TOKEN: &[u8] = b"slow-cooker-token";
const IN_FLIGHT: usize = 32;
const WARMUP: Duration = Duration::from_secs(1);
const MEASURE: Duration = Duration::from_secs(5);
const TARGET_PER_SECOND: f64 = 2_000.0;

fn main() {
    let day = Duration::from_secs(86_400);
    let root = SigningCa::generate_root("root.linkerd.cluster.local", 365 * day).expect("root");
    let issuer =
        Issuer::generate(&root, "identity.linkerd.cluster.local", 30 * day).expect("issuer");
    let certifier = Arc::new(Certifier::new(issuer, IdentityDomain::default()));
    let tokens = EmbeddedTokens::new();
    tokens.register(TOKEN, ServiceAccountRef::new("mc-demo", "slow-cooker"));

    // The server: one thread, one runtime.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let running = ControlPlane::new()
                .with_identity(certifier, tokens)
                .serve("127.0.0.1:0".parse().expect("addr"))
                .await
                .expect("serve");
            addr_tx.send(running.local_addr()).expect("send addr");
            std::future::pending::<()>().await;
        });
    });
    let addr = addr_rx.recv().expect("server address");

    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::new(vec![IDENTITY.to_string()]).expect("params");
    params.distinguished_name = DistinguishedName::new();
    let csr = params.serialize_request(&key).expect("csr").der().to_vec();
    let request = CertifyRequest {
        identity: IDENTITY.to_string(),
        token: TOKEN.to_vec(),
        certificate_signing_request: csr,
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("client runtime");
    runtime.block_on(async move {
        let channel = Channel::from_shared(format!("http://{addr}"))
            .expect("uri")
            .connect()
            .await
            .expect("connect");
        let run = |duration: Duration| {
            let channel = channel.clone();
            let request = request.clone();
            async move {
                let deadline = Instant::now() + duration;
                let workers = (0..IN_FLIGHT).map(|_| {
                    let mut client = IdentityClient::new(channel.clone());
                    let request = request.clone();
                    tokio::spawn(async move {
                        let mut issued = 0u64;
                        while Instant::now() < deadline {
                            let response = client.certify(request.clone()).await.expect("certify");
                            assert!(!response.get_ref().leaf_certificate.is_empty());
                            issued += 1;
                        }
                        issued
                    })
                });
                let mut total = 0;
                for worker in workers.collect::<Vec<_>>() {
                    total += worker.await.expect("worker");
                }
                total
            }
        };
        run(WARMUP).await;
        let started = Instant::now();
        let issued = run(MEASURE).await;
        let per_second = issued as f64 / started.elapsed().as_secs_f64();
        println!(
            "Certify over gRPC on loopback, server on one thread, {IN_FLIGHT} requests in flight"
        );
        println!(
            "  {issued} certificates in {:.1?}: {per_second:.0}/s",
            started.elapsed()
        );
        println!(
            "  ratio to target ({TARGET_PER_SECOND:.0}/s): {:.2}",
            per_second / TARGET_PER_SECOND
        );
    });
}
