//! Which service account a proxy's token belongs to.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use parking_lot::RwLock;

/// A service account, as named by a validated token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ServiceAccountRef {
    /// The namespace.
    pub namespace: String,
    /// The service account's name.
    pub name: String,
}

impl ServiceAccountRef {
    /// A reference to service account `name` in `namespace`.
    pub fn new(namespace: impl Into<String>, name: impl Into<String>) -> Self {
        ServiceAccountRef {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
}

/// Why a token was not accepted; the reason is returned to the proxy.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[error("token rejected: {0}")]
pub struct TokenRejected(pub String);

/// Turns a proxy's bearer token into the service account it proves.
///
/// The identity service trusts a proxy only as far as its token: the name it
/// may ask for is built from what this returns. A trait, so the Kubernetes
/// TokenReview check and the embedded runtime's token table are
/// interchangeable and the service cannot tell which it runs against.
pub trait TokenValidator: Send + Sync + 'static {
    /// The service account `token` belongs to, or why it is not accepted.
    fn validate(
        &self,
        token: &[u8],
    ) -> impl Future<Output = Result<ServiceAccountRef, TokenRejected>> + Send;
}

/// The embedded runtime's tokens: the local runtime registers one per pod
/// when it starts the pod's proxy, and revokes it when the pod goes away.
/// Cloning shares the table.
#[derive(Clone, Debug, Default)]
pub struct EmbeddedTokens {
    tokens: Arc<RwLock<HashMap<Vec<u8>, ServiceAccountRef>>>,
}

impl EmbeddedTokens {
    /// An empty table: every token is rejected until registered.
    pub fn new() -> Self {
        EmbeddedTokens::default()
    }

    /// Makes `token` prove `account`, replacing what it proved before.
    pub fn register(&self, token: impl Into<Vec<u8>>, account: ServiceAccountRef) {
        self.tokens.write().insert(token.into(), account);
    }

    /// Forgets `token`; returns whether it was registered.
    pub fn revoke(&self, token: &[u8]) -> bool {
        self.tokens.write().remove(token).is_some()
    }

    /// The account `token` proves, if registered.
    pub fn lookup(&self, token: &[u8]) -> Option<ServiceAccountRef> {
        self.tokens.read().get(token).cloned()
    }
}

impl TokenValidator for EmbeddedTokens {
    fn validate(
        &self,
        token: &[u8],
    ) -> impl Future<Output = Result<ServiceAccountRef, TokenRejected>> + Send {
        let result = if token.is_empty() {
            Err(TokenRejected("the token is empty".to_string()))
        } else {
            self.lookup(token)
                .ok_or_else(|| TokenRejected("the token is not registered".to_string()))
        };
        std::future::ready(result)
    }
}

#[cfg(test)]
mod tests;
