//! `strait install`: the control plane's manifests, printed as YAML for
//! `kubectl apply -f -`, as `linkerd install --ignore-cluster` prints them.
//! Nothing is read from or written to a cluster.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use strait_install::{ControlPlane, CrdSelection, IdentityFiles, render};
use strait_mesh::names::{CONTROL_PLANE_NAMESPACE, DEFAULT_CLUSTER_DOMAIN, DEFAULT_TRUST_DOMAIN};

use crate::context::Scope;

/// Flags of `strait install`, Linkerd's names.
#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Print only the CustomResourceDefinitions, to apply first.
    #[arg(long, conflicts_with = "skip_crds")]
    pub crds: bool,
    /// Print everything but the CustomResourceDefinitions.
    #[arg(long)]
    pub skip_crds: bool,
    /// The cluster's DNS domain.
    #[arg(long, default_value = DEFAULT_CLUSTER_DOMAIN)]
    pub cluster_domain: String,
    /// The trust domain of the mesh's identities; every cluster of a
    /// multicluster mesh uses the same one.
    #[arg(long, default_value = DEFAULT_TRUST_DOMAIN)]
    pub identity_trust_domain: String,
    /// PEM bundle of the trust anchors every cluster of the mesh shares.
    #[arg(long)]
    pub identity_trust_anchors_file: Option<PathBuf>,
    /// PEM certificate of this cluster's issuer, signed by a trust anchor.
    #[arg(long)]
    pub identity_issuer_certificate_file: Option<PathBuf>,
    /// PEM private key (ECDSA P-256) of the issuer.
    #[arg(long)]
    pub identity_issuer_key_file: Option<PathBuf>,
    /// The image every component runs; default: this build's.
    #[arg(long)]
    pub image: Option<String>,
    /// Accepted for Linkerd's scripts: `strait install` never contacts a
    /// cluster.
    #[arg(long)]
    pub ignore_cluster: bool,
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
    only_control_plane_namespace(scope)?;
    let control_plane = ControlPlane {
        cluster_domain: args.cluster_domain.clone(),
        identity_trust_domain: args.identity_trust_domain.clone(),
        image: args
            .image
            .clone()
            .unwrap_or_else(strait_api::image::default_image),
    };
    let selection = match (args.crds, args.skip_crds) {
        (true, _) => CrdSelection::Only,
        (false, true) => CrdSelection::Skip,
        (false, false) => CrdSelection::Both,
    };
    control_plane.validate().map_err(|e| e.to_string())?;
    let files = IdentityFiles {
        trust_anchors: args.identity_trust_anchors_file.clone(),
        issuer_certificate: args.identity_issuer_certificate_file.clone(),
        issuer_key: args.identity_issuer_key_file.clone(),
    };
    let material = if selection == CrdSelection::Only && files == IdentityFiles::default() {
        // Nothing to sign: skip generating an anchor nobody would see.
        None
    } else {
        Some(
            files
                .load(&args.identity_trust_domain)
                .map_err(|e| e.to_string())?,
        )
    };
    let objects = match &material {
        Some(material) => control_plane.render(material, selection),
        None => strait_install::control_plane::crds(),
    }
    .map_err(|e| e.to_string())?;
    if material.as_ref().is_some_and(|m| m.generated) && selection != CrdSelection::Only {
        eprintln!(
            "note: generated a new trust anchor and issuer for this cluster. No other cluster \
             shares that anchor, so proxies of other clusters will not trust this one's: for a \
             multicluster mesh, create one anchor and pass it to every cluster's install with \
             --identity-trust-anchors-file, --identity-issuer-certificate-file and \
             --identity-issuer-key-file."
        );
    }
    render(&objects).map_err(|e| e.to_string())
}

/// The control plane lives in `linkerd`, which every component and proxy
/// expects; `-n` naming another namespace is a mistake worth reporting.
pub fn only_control_plane_namespace(scope: &Scope) -> Result<(), String> {
    match scope.namespace.as_deref() {
        None => Ok(()),
        Some(ns) if ns == CONTROL_PLANE_NAMESPACE => Ok(()),
        Some(ns) => Err(format!(
            "strait installs into namespace {CONTROL_PLANE_NAMESPACE} only, not {ns:?}: \
             proxies and controllers find each other there"
        )),
    }
}
