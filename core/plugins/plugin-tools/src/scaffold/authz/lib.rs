//! An authz plugin for strait. It admits a request as Linkerd does: the first
//! candidate authorization whose networks and authentication admit the client
//! wins, and a request nothing admits is denied. Add rules of your own in
//! `authorize`; `cases.yaml` says what the plugin must decide.

use strait_plugin_sdk::authz::{Authorization, Client, Decision, Inbound};
use strait_plugin_sdk::{Authorizer, identity, net};

struct Plugin;

impl Authorizer for Plugin {
    fn authorize(client: &Client, _request: &Inbound, candidates: &[Authorization]) -> Decision {
        match net::first_admitting(candidates, client).map(u32::try_from) {
            Some(Ok(index)) => Decision::Allow(index),
            Some(Err(_)) => Decision::Deny("too many candidates".into()),
            None => {
                let who = identity::mtls_identity(client).unwrap_or("an unauthenticated client");
                strait_plugin_sdk::debug!("denied {who}");
                Decision::Deny(format!("no authorization admits {who}"))
            }
        }
    }
}

strait_plugin_sdk::export_authz!(Plugin);
