//! What every control-plane command shares: the names of the mesh, and
//! how its services speak TLS.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use strait_mesh::names::{
    CONTROL_PLANE_NAMESPACE, Component, DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN, IDENTITY,
    IDENTITY_TOKEN_FILE, TRUST_ANCHORS_FILE,
};
use strait_runtime::tls::{Certification, ControllerTls};

/// How this mesh spells its names; every control-plane component must
/// agree on them, so they are the same flags everywhere, with Linkerd's
/// defaults.
#[derive(Args, Clone, Debug)]
pub struct MeshNames {
    /// Namespace of the control plane; part of every identity name.
    #[arg(long, default_value = CONTROL_PLANE_NAMESPACE)]
    pub controller_namespace: String,
    /// Trust domain of the mesh's identities.
    #[arg(long, default_value = DEFAULT_TRUST_DOMAIN)]
    pub identity_trust_domain: String,
}

impl MeshNames {
    /// The identity `component`'s server proves.
    pub fn identity_of(&self, component: &Component) -> String {
        component.identity(&self.controller_namespace, &self.identity_trust_domain)
    }
}

/// How destination and policy serve: mTLS with a certificate from the
/// identity service, as a proxy gets one.
#[derive(Args, Clone, Debug)]
pub struct CertifiedTls {
    /// Serve plaintext instead of TLS; refused unless `--addr` is a
    /// loopback address.
    #[arg(long)]
    pub plaintext: bool,
    /// PEM bundle of the trust anchors every cluster of the mesh shares.
    #[arg(long, default_value = TRUST_ANCHORS_FILE)]
    pub trust_anchors_file: PathBuf,
    /// The ServiceAccount token (audience `identity.l5d.io`) sent to the
    /// identity service.
    #[arg(long, default_value = IDENTITY_TOKEN_FILE)]
    pub identity_token_file: PathBuf,
    /// Where the identity service is reached (`host:port`).
    #[arg(long, default_value_t = IDENTITY.address(DEFAULT_CLUSTER_DOMAIN))]
    pub identity_addr: String,
}

impl CertifiedTls {
    /// The TLS `component` serves with, under `names`.
    pub fn controller_tls(&self, component: &Component, names: &MeshNames) -> ControllerTls {
        if self.plaintext {
            return ControllerTls::Plaintext;
        }
        ControllerTls::Certified(Certification {
            local_name: names.identity_of(component),
            token_file: self.identity_token_file.clone(),
            trust_anchors_file: self.trust_anchors_file.clone(),
            identity_addr: self.identity_addr.clone(),
            identity_name: names.identity_of(&IDENTITY),
        })
    }
}

/// Refuses `--plaintext` off loopback before anything starts, naming the
/// flags.
pub fn check_plaintext(plaintext: bool, addr: SocketAddr) -> Result<(), String> {
    if plaintext && !addr.ip().is_loopback() {
        return Err(format!(
            "--plaintext is only allowed with a loopback --addr (got {addr}): off the host the control plane speaks TLS"
        ));
    }
    Ok(())
}
