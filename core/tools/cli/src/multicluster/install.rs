//! `strait multicluster install`: the multicluster extension's manifests,
//! printed as YAML for `kubectl apply -f -`, as `linkerd multicluster
//! install` prints them. Nothing is read from or written to a cluster.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgAction, Args};
use strait_install::{Multicluster, render, trust_anchors_from_file};
use strait_mesh::names::{
    DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN, MULTICLUSTER_NAMESPACE, TRUST_ROOTS,
    TRUST_ROOTS_KEY,
};

use crate::context::Scope;

/// Flags of `strait multicluster install`, Linkerd's names.
#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Install the gateway (for gateway-mode links to this cluster);
    /// `--gateway=false` for pod-to-pod links only.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, default_value_t = true, default_missing_value = "true")]
    pub gateway: bool,
    /// Helm-style values: `controllers[N].link.ref.name=NAME` runs a service
    /// mirror for Link NAME; `gateway.enabled=true|false`. Applied after
    /// the flags; repeat or separate with commas.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The cluster's DNS domain, for the gateway's control-plane addresses.
    #[arg(long, default_value = DEFAULT_CLUSTER_DOMAIN)]
    pub cluster_domain: String,
    /// The mesh's trust domain, for the gateway's identity.
    #[arg(long, default_value = DEFAULT_TRUST_DOMAIN)]
    pub identity_trust_domain: String,
    /// PEM bundle of the mesh's trust anchors, which the gateway's proxy
    /// trusts; rendered as ConfigMap linkerd-identity-trust-roots in
    /// linkerd-multicluster.
    #[arg(long)]
    pub identity_trust_anchors_file: Option<PathBuf>,
    /// The image every component runs; default: this build's.
    #[arg(long)]
    pub image: Option<String>,
}

/// Prints the manifests, or why they cannot be made.
pub fn run(scope: &Scope, args: InstallArgs) -> ExitCode {
    match generate(scope, &args) {
        Ok(yaml) => {
            print!("{yaml}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

fn generate(scope: &Scope, args: &InstallArgs) -> Result<String, String> {
    crate::install::only_control_plane_namespace(scope)?;
    let trust_anchors_pem = args
        .identity_trust_anchors_file
        .as_deref()
        .map(trust_anchors_from_file)
        .transpose()
        .map_err(|e| e.to_string())?;
    let mut install = Multicluster {
        gateway: args.gateway,
        links: Vec::new(),
        image: args
            .image
            .clone()
            .unwrap_or_else(strait_api::image::default_image),
        cluster_domain: args.cluster_domain.clone(),
        identity_trust_domain: args.identity_trust_domain.clone(),
        trust_anchors_pem,
    };
    install
        .apply_sets(args.set.iter().map(String::as_str))
        .map_err(|e| e.to_string())?;
    let objects = install.render().map_err(|e| e.to_string())?;
    if install.gateway && install.trust_anchors_pem.is_none() {
        eprintln!(
            "note: the gateway's proxy reads the mesh's trust anchors from ConfigMap \
             {TRUST_ROOTS} (key {TRUST_ROOTS_KEY}) in {MULTICLUSTER_NAMESPACE}, which this \
             output does not include; pass --identity-trust-anchors-file, or create it: \
             kubectl -n {MULTICLUSTER_NAMESPACE} create configmap {TRUST_ROOTS} \
             --from-file={TRUST_ROOTS_KEY}=ca.crt"
        );
    }
    render(&objects).map_err(|e| e.to_string())
}
