//! Admits only mTLS clients from the namespaces listed here, and lets only
//! one identity change things (POST, PUT, DELETE). Admitted requests are
//! reported as `plugin/authz-namespaces`; the policy's own authorizations are
//! not consulted.

use strait_plugin_sdk::authz::{Authorization, Client, Decision, Inbound};
use strait_plugin_sdk::{Authorizer, identity, reference};

/// The namespaces whose workloads may call.
const NAMESPACES: &[&str] = &["mc-demo", "shop"];
/// The one identity allowed to use the methods in [`WRITE_METHODS`].
const ADMIN: &str = "admin.mc-demo.serviceaccount.identity.linkerd.cluster.local";
/// Methods that change things.
const WRITE_METHODS: &[&str] = &["POST", "PUT", "DELETE"];

struct Namespaces;

impl Authorizer for Namespaces {
    fn authorize(client: &Client, request: &Inbound, _candidates: &[Authorization]) -> Decision {
        let Some(id) = identity::mtls_identity(client) else {
            return Decision::Deny("only mTLS clients are admitted".into());
        };
        match identity::parse(id) {
            Some(parsed) if NAMESPACES.contains(&parsed.namespace) => {}
            _ => return Decision::Deny(format!("{id} is not in an admitted namespace")),
        }
        if let Some(http) = request.http()
            && WRITE_METHODS.contains(&http.method.as_str())
            && id != ADMIN
        {
            return Decision::Deny(format!("{id} may not use {}", http.method));
        }
        Decision::AllowAs(reference("plugin", "authz-namespaces"))
    }
}

strait_plugin_sdk::export_authz!(Namespaces);
