//! [`TokenReviewer`]: which service account a proxy's token belongs to, as
//! the Kubernetes API server vouches for it.
//!
//! A meshed proxy proves who it is with the ServiceAccount token the kubelet
//! projects into its pod. Only the API server can tell whether such a token
//! is genuine, unexpired and still bound to a live pod, so every token is
//! sent to it in a `TokenReview` (`authentication.k8s.io/v1`), and the
//! account is taken from the reviewed username, never from the token itself.
//! The identity service reaches this through an adapter, which keeps this
//! crate free of the identity crate and the identity crate free of kube.

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec, TokenReviewStatus};
use kube::api::{Api, PostParams};

use crate::KubeStore;

/// The audience of the token Linkerd's proxy injector projects into meshed
/// pods (the `linkerd-identity-token` volume). Asking for it makes the API
/// server refuse tokens minted for anything else, such as the pod's default
/// token for the Kubernetes API, so a token stolen from one system cannot be
/// replayed against the other.
pub const LINKERD_IDENTITY_AUDIENCE: &str = strait_mesh::names::IDENTITY_TOKEN_AUDIENCE;

/// The username prefix the API server gives service account tokens.
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// The longest DNS-1123 label, the bound on namespace and account names.
const MAX_LABEL_LEN: usize = 63;

/// Checks proxies' tokens with the API server's TokenReview API.
///
/// Cloning shares the client (and its connections). The client's identity
/// needs permission to `create` `tokenreviews.authentication.k8s.io`, which
/// the `system:auth-delegator` ClusterRole grants.
#[derive(Clone)]
pub struct TokenReviewer {
    client: kube::Client,
    audiences: Vec<String>,
}

impl std::fmt::Debug for TokenReviewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenReviewer")
            .field("audiences", &self.audiences)
            .finish_non_exhaustive()
    }
}

/// The service account a reviewed token belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ReviewedAccount {
    /// The account's namespace.
    pub namespace: String,
    /// The account's name.
    pub name: String,
}

/// Why a token did not prove a service account. Each variant says what an
/// operator can look at: the proxy's token, the API server's verdict, or the
/// reviewer's own access to the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenReviewError {
    /// The proxy sent no token; refused without asking the API server.
    #[error(
        "the token is empty: the proxy sent no service account token \
         (is the identity token volume mounted into the proxy?)"
    )]
    EmptyToken,

    /// The token is not UTF-8 text, which no Kubernetes token is; refused
    /// without asking the API server.
    #[error(
        "the token is not UTF-8 text, so it is not a Kubernetes service account token \
         (is the proxy reading the right file?)"
    )]
    NotUtf8,

    /// The API server did not authenticate the token: expired, revoked,
    /// bound to a pod that is gone, signed by another cluster, or issued for
    /// another audience.
    #[error("the Kubernetes API server rejected the token: {reason}")]
    Rejected {
        /// The API server's `status.error`, or what it left out.
        reason: String,
    },

    /// The token is genuine but belongs to a user or node, not a service
    /// account, so it names no workload to issue an identity to.
    #[error(
        "the token belongs to {username:?}, which is not a service account \
         (expected system:serviceaccount:<namespace>:<name>)"
    )]
    NotServiceAccount {
        /// The username the API server reported.
        username: String,
    },

    /// The token names a service account whose namespace or name cannot be
    /// used as a DNS label in the proxy's identity.
    #[error("the token's service account {username:?} cannot be used: the {part} {reason}")]
    InvalidAccountName {
        /// The username the API server reported.
        username: String,
        /// Which part is at fault: `namespace` or `name`.
        part: &'static str,
        /// What is wrong with it.
        #[source]
        reason: LabelError,
    },

    /// The API server authenticated the token but not for any audience
    /// asked for: the token was minted for something else (often the pod's
    /// default API token instead of the projected identity token), or the
    /// server is not audience-aware.
    #[error(
        "the token was not issued for audience {expected}; the API server accepted it for {accepted} \
         (does the proxy use the projected token with audience {expected}?)"
    )]
    WrongAudience {
        /// The audiences asked for, comma-separated.
        expected: String,
        /// The audiences the API server reported, comma-separated, or
        /// `none` when it reported none.
        accepted: String,
    },

    /// The TokenReview request itself failed; the token was neither
    /// accepted nor rejected, and a retry may succeed.
    #[error(
        "the TokenReview request to the Kubernetes API server failed: {reason}{}",
        api_hint(*.code)
    )]
    Api {
        /// The HTTP status the API server answered with, when it answered.
        code: Option<u16>,
        /// The API server's message, or the transport's error.
        reason: String,
    },
}

/// Why a namespace or name is not a DNS-1123 label; the text follows the
/// part it is about (`the namespace is empty`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Nothing at all.
    #[error("is empty")]
    Empty,
    /// More than 63 characters.
    #[error("is longer than {MAX_LABEL_LEN} characters")]
    TooLong,
    /// A character other than a-z, 0-9 and `-`.
    #[error("{label:?} contains {character:?}; only a-z, 0-9 and '-' are allowed")]
    Character {
        /// The label.
        label: String,
        /// The first character not allowed.
        character: char,
    },
    /// A leading or trailing `-`.
    #[error("{0:?} starts or ends with '-'")]
    Hyphen(String),
}

/// What to check when the API call fails with `code`.
fn api_hint(code: Option<u16>) -> &'static str {
    match code {
        Some(401) => " (are the reviewer's own API credentials valid?)",
        Some(403) => {
            " (may the reviewer's identity create tokenreviews.authentication.k8s.io? \
             bind it to the system:auth-delegator ClusterRole)"
        }
        _ => "",
    }
}

impl TokenReviewer {
    /// Reviews tokens through `client`, asking for
    /// [`LINKERD_IDENTITY_AUDIENCE`], the audience of the token Linkerd's
    /// proxies present.
    pub fn new(client: kube::Client) -> Self {
        TokenReviewer {
            client,
            audiences: vec![LINKERD_IDENTITY_AUDIENCE.to_string()],
        }
    }

    /// Reviews tokens in the cluster `store` talks to, sharing its client,
    /// so the identity service needs no second connection.
    pub fn from_store(store: &KubeStore) -> Self {
        Self::new(store.client().clone())
    }

    /// Replaces the audiences asked for. A token is accepted when the API
    /// server confirms at least one of them. With none, the API server
    /// checks the token against its own audience and no audience check is
    /// made here; only for tokens meant for the Kubernetes API itself.
    pub fn with_audiences<I, S>(mut self, audiences: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self
    }

    /// The audiences asked for, so callers can report what they check.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The service account `token` belongs to, as the API server vouches.
    ///
    /// Empty and non-UTF-8 tokens are refused without a request. Otherwise
    /// the token is accepted only when the API server authenticates it
    /// without error, confirms one of the audiences asked for, and names a
    /// service account (`system:serviceaccount:<namespace>:<name>`) whose
    /// namespace and name are DNS-1123 labels. The token never appears in
    /// errors or logs.
    pub async fn review(&self, token: &[u8]) -> Result<ReviewedAccount, TokenReviewError> {
        if token.is_empty() {
            return Err(TokenReviewError::EmptyToken);
        }
        let token = std::str::from_utf8(token).map_err(|_| TokenReviewError::NotUtf8)?;
        if token.trim().is_empty() {
            return Err(TokenReviewError::EmptyToken);
        }

        let request = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_string(),
                audiences: (!self.audiences.is_empty()).then(|| self.audiences.clone()),
            },
            ..TokenReview::default()
        };
        let api: Api<TokenReview> = Api::all(self.client.clone());
        let reviewed = api
            .create(&PostParams::default(), &request)
            .await
            .map_err(api_error)?;
        let status = reviewed.status.ok_or_else(|| TokenReviewError::Rejected {
            reason: "the API server returned the review without a status".into(),
        })?;
        self.judge(status)
    }

    /// The account a review's `status` vouches for, or why it does not.
    fn judge(&self, status: TokenReviewStatus) -> Result<ReviewedAccount, TokenReviewError> {
        if let Some(error) = status.error.filter(|e| !e.trim().is_empty()) {
            return Err(TokenReviewError::Rejected { reason: error });
        }
        if status.authenticated != Some(true) {
            return Err(TokenReviewError::Rejected {
                reason: "the token is not authenticated (the API server gave no reason)".into(),
            });
        }
        if !self.audiences.is_empty() {
            let accepted = status.audiences.unwrap_or_default();
            if !accepted.iter().any(|a| self.audiences.contains(a)) {
                return Err(TokenReviewError::WrongAudience {
                    expected: self.audiences.join(", "),
                    accepted: if accepted.is_empty() {
                        "none".into()
                    } else {
                        accepted.join(", ")
                    },
                });
            }
        }
        let username = status.user.and_then(|u| u.username).unwrap_or_default();
        service_account(&username)
    }
}

/// Reads `system:serviceaccount:<namespace>:<name>`. Both parts must be
/// DNS-1123 labels, as Kubernetes requires of namespaces and as the proxy's
/// identity name, which embeds both as labels, requires of the account.
fn service_account(username: &str) -> Result<ReviewedAccount, TokenReviewError> {
    let not_service_account = || TokenReviewError::NotServiceAccount {
        username: username.to_string(),
    };
    let rest = username
        .strip_prefix(SERVICE_ACCOUNT_PREFIX)
        .ok_or_else(not_service_account)?;
    let (namespace, name) = rest.split_once(':').ok_or_else(not_service_account)?;
    let invalid = |part| {
        move |reason| TokenReviewError::InvalidAccountName {
            username: username.to_string(),
            part,
            reason,
        }
    };
    dns_label(namespace).map_err(invalid("namespace"))?;
    dns_label(name).map_err(invalid("name"))?;
    Ok(ReviewedAccount {
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

/// Whether `s` is a DNS-1123 label: 1 to 63 lowercase letters, digits and
/// `-`, starting and ending with a letter or digit.
fn dns_label(s: &str) -> Result<(), LabelError> {
    if s.is_empty() {
        return Err(LabelError::Empty);
    }
    if s.len() > MAX_LABEL_LEN {
        return Err(LabelError::TooLong);
    }
    if let Some(character) = s
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(LabelError::Character {
            label: s.to_string(),
            character,
        });
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(LabelError::Hyphen(s.to_string()));
    }
    Ok(())
}

/// The failed request as [`TokenReviewError::Api`], keeping the API
/// server's status code and message when it answered.
fn api_error(err: kube::Error) -> TokenReviewError {
    match err {
        kube::Error::Api(status) => TokenReviewError::Api {
            code: Some(status.code),
            reason: if status.message.is_empty() {
                format!("HTTP {} {}", status.code, status.reason)
                    .trim_end()
                    .to_string()
            } else {
                format!("{} (HTTP {})", status.message, status.code)
            },
        },
        other => TokenReviewError::Api {
            code: None,
            reason: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests;
