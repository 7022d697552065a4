//! Shared test setup: a mesh's CA material and an identity service on loopback.

#![allow(dead_code)]

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use linkerd2_proxy_api::identity::identity_client::IdentityClient;
use parking_lot::Mutex;
use strait_identity::{
    Certifier, EmbeddedTokens, IdentityDomain, IdentityService, Issuer, ServiceAccountRef,
    SigningCa, TokenRejected, TokenValidator,
};
use strait_test_support::grpc::{channel, serve};
pub use strait_test_support::identity::DAY;
use strait_tls::{Credentials, LocalIdentity, TrustRoots};
use tonic::service::Routes;
use tonic::transport::Channel;

/// `<sa>.<ns>.serviceaccount.identity.linkerd.cluster.local`.
pub fn identity(ns: &str, sa: &str) -> String {
    IdentityDomain::default().identity(ns, sa)
}

/// One trust anchor with one issuer under it.
pub struct Mesh {
    pub root: SigningCa,
    pub certifier: Arc<Certifier>,
    pub roots: TrustRoots,
}

impl Mesh {
    pub fn new(leaf_lifetime: Duration) -> Mesh {
        let root = SigningCa::generate_root("root.linkerd.cluster.local", DAY).expect("root");
        let issuer =
            Issuer::generate(&root, "identity.linkerd.cluster.local", DAY).expect("issuer");
        let roots =
            TrustRoots::from_pem("ca.crt", root.certificate_pem().as_bytes()).expect("roots");
        let certifier = Arc::new(
            Certifier::new(issuer, IdentityDomain::default()).with_lifetime(leaf_lifetime),
        );
        Mesh {
            root,
            certifier,
            roots,
        }
    }

    /// Credentials for `name`, issued directly (no gRPC), trusting `roots`.
    pub fn credentials_trusting(&self, name: &str, roots: TrustRoots) -> Arc<Credentials> {
        let local = LocalIdentity::new(name).expect("local identity");
        let issued = self.certifier.issue(local.csr_der(), name).expect("issued");
        let chain = issued.chain_der.into_iter().map(Into::into).collect();
        Arc::new(Credentials::new(&local, issued.leaf_der.into(), chain, roots).expect("creds"))
    }

    /// Credentials for `name` from this mesh, trusting this mesh only.
    pub fn credentials(&self, name: &str) -> Arc<Credentials> {
        self.credentials_trusting(name, self.roots.clone())
    }
}

/// An [`EmbeddedTokens`] table that records every token it is asked about.
#[derive(Clone, Default)]
pub struct RecordingTokens {
    pub tokens: EmbeddedTokens,
    pub seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl RecordingTokens {
    pub fn register(&self, token: &[u8], ns: &str, sa: &str) {
        self.tokens
            .register(token.to_vec(), ServiceAccountRef::new(ns, sa));
    }

    pub fn revoke(&self, token: &[u8]) {
        self.tokens.revoke(token);
    }

    pub fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().clone()
    }

    pub fn calls(&self) -> usize {
        self.seen.lock().len()
    }
}

impl TokenValidator for RecordingTokens {
    fn validate(
        &self,
        token: &[u8],
    ) -> impl Future<Output = Result<ServiceAccountRef, TokenRejected>> + Send {
        self.seen.lock().push(token.to_vec());
        self.tokens.validate(token)
    }
}

/// Serves `Identity.Certify` on loopback and returns a client for it.
pub async fn serve_identity(
    certifier: Arc<Certifier>,
    tokens: RecordingTokens,
) -> IdentityClient<Channel> {
    let service = IdentityService::new(certifier, tokens).into_server();
    let addr = serve(Routes::new(service)).await;
    IdentityClient::new(channel(addr).await)
}
