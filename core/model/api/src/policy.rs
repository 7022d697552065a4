//! Linkerd's authorization resources (`policy.linkerd.io`): which clients may
//! reach which pod ports and routes.
//!
//! strait's policy controller reads the same resources Linkerd's does, so
//! the policies of the pod-to-pod guide work unchanged.

pub mod authorization_policy;
pub mod httproute;
pub mod meshtls_authentication;
pub mod network;
pub mod network_authentication;
pub mod server;
pub mod server_authorization;
pub mod target_ref;

pub use authorization_policy::{AuthorizationPolicy, AuthorizationPolicySpec};
pub use httproute::{HttpRoute, HttpRouteSpec};
pub use meshtls_authentication::{MeshTlsAuthentication, MeshTlsAuthenticationSpec};
pub use network::Network;
pub use network_authentication::{NetworkAuthentication, NetworkAuthenticationSpec};
pub use server::{ProxyProtocol, Server, ServerSpec};
pub use server_authorization::{ServerAuthorization, ServerAuthorizationSpec};
pub use target_ref::{IdentityRef, LocalTargetRef, NamespacedTargetRef};

/// The API group of every resource in this module.
pub const GROUP: &str = "policy.linkerd.io";
