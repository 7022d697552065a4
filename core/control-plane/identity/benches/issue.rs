//! Certificates issued per second: the work of one `Certify` call after the
//! token check (CSR parsing and checks, signing the leaf), on one core.
//!
//! `cargo bench -p strait-identity --bench issue`

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rcgen::{CertificateParams, DistinguishedName, KeyPair, PKCS_ECDSA_P256_SHA256};
use strait_identity::{Certifier, IdentityDomain, Issuer, SigningCa};

const IDENTITY: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";

fn issue(c: &mut Criterion) {
    let root = SigningCa::generate_root(
        "root.linkerd.cluster.local",
        Duration::from_secs(86_400 * 365),
    )
    .expect("root");
    let issuer = Issuer::generate(
        &root,
        "identity.linkerd.cluster.local",
        Duration::from_secs(86_400 * 30),
    )
    .expect("issuer");
    let certifier = Certifier::new(issuer, IdentityDomain::default());
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).expect("key");
    let mut params = CertificateParams::new(vec![IDENTITY.to_string()]).expect("params");
    params.distinguished_name = DistinguishedName::new();
    let csr = params.serialize_request(&key).expect("csr").der().to_vec();
    certifier
        .issue(&csr, IDENTITY)
        .expect("a valid CSR is issued");

    let mut group = c.benchmark_group("identity");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("issue_leaf", |b| b.iter(|| certifier.issue(&csr, IDENTITY)));
    group.finish();
}

criterion_group!(benches, issue);
criterion_main!(benches);
