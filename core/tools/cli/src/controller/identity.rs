//! `strait controller identity`: Linkerd's Identity service for Kubernetes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use strait_identity::{Certifier, IdentityDomain, Issuer};
use strait_mesh::names::IDENTITY;
use strait_runtime::controller::{self, ReviewedTokens, Serving};
use strait_store_kube::{LINKERD_IDENTITY_AUDIENCE, TokenReviewer};

use strait_runtime::tls::ControllerTls;

use super::serving::{MeshNames, check_plaintext};

/// Where Linkerd's identity Deployment mounts its trust roots and issuer,
/// so the same Secrets and ConfigMap work unchanged.
const TRUST_ANCHORS_FILE: &str = "/var/run/linkerd/identity/trust-roots/ca-bundle.crt";
const ISSUER_CERTIFICATE_FILE: &str = "/var/run/linkerd/identity/issuer/crt.pem";
const ISSUER_KEY_FILE: &str = "/var/run/linkerd/identity/issuer/key.pem";

/// Flags of `strait controller identity`.
#[derive(Args, Clone, Debug)]
pub struct IdentityArgs {
    /// Where proxies reach `Identity.Certify`.
    #[arg(long, default_value_t = IDENTITY.listen_addr())]
    pub addr: SocketAddr,
    /// Where /metrics, /ready and /live are served.
    #[arg(long, default_value_t = IDENTITY.admin_listen_addr())]
    pub admin_addr: SocketAddr,
    /// PEM bundle of the trust anchors every cluster of the mesh shares.
    #[arg(long, default_value = TRUST_ANCHORS_FILE)]
    pub trust_anchors_file: PathBuf,
    /// PEM certificate of this cluster's issuer, signed by a trust anchor.
    #[arg(long, default_value = ISSUER_CERTIFICATE_FILE)]
    pub issuer_certificate_file: PathBuf,
    /// PEM private key of the issuer (ECDSA P-256).
    #[arg(long, default_value = ISSUER_KEY_FILE)]
    pub issuer_key_file: PathBuf,
    /// How long issued certificates are valid (Go notation: 24h, 90m).
    #[arg(long, default_value = "24h", value_parser = parse_lifetime)]
    pub issuance_lifetime: Duration,
    /// Audience the proxies' ServiceAccount tokens are bound to, checked by
    /// the TokenReview; repeat for several.
    #[arg(long = "token-audience", default_value = LINKERD_IDENTITY_AUDIENCE)]
    pub token_audiences: Vec<String>,
    /// Serve plaintext instead of TLS with a certificate from the issuer;
    /// refused unless `--addr` is a loopback address.
    #[arg(long)]
    pub plaintext: bool,
    #[command(flatten)]
    pub names: MeshNames,
}

fn parse_lifetime(text: &str) -> Result<Duration, String> {
    strait_api::go_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a duration such as 24h or 90m"))
}

/// The certifier the flags describe: the issuer read and checked against
/// the anchors, and the identity domain. Every fault names the file.
pub fn certifier(args: &IdentityArgs) -> Result<Certifier, String> {
    let issuer = Issuer::from_pem_files(
        &args.trust_anchors_file,
        &args.issuer_certificate_file,
        &args.issuer_key_file,
    )
    .map_err(|e| format!("identity issuer: {e}"))?;
    let domain = IdentityDomain::new(
        &args.names.controller_namespace,
        &args.names.identity_trust_domain,
    )
    .map_err(|e| format!("identity names: {e}"))?;
    Ok(Certifier::new(issuer, domain).with_lifetime(args.issuance_lifetime))
}

pub async fn run(args: IdentityArgs) -> Result<(), String> {
    check_plaintext(args.plaintext, args.addr)?;
    let certifier = certifier(&args)?;
    log_files(&args.trust_anchors_file, &args.issuer_certificate_file);
    let store = super::kube_store().await?;
    let reviewer = TokenReviewer::from_store(&store).with_audiences(args.token_audiences.clone());
    let tls = if args.plaintext {
        ControllerTls::Plaintext
    } else {
        ControllerTls::SelfIssued {
            name: args.names.identity_of(&IDENTITY),
        }
    };
    let serving = Serving {
        addr: args.addr,
        admin_addr: args.admin_addr,
        tls,
    };
    controller::identity(
        certifier,
        ReviewedTokens(reviewer),
        serving,
        crate::signal::terminated(),
    )
    .await
    .map_err(|e| e.to_string())
}

fn log_files(anchors: &Path, issuer: &Path) {
    tracing::info!(
        anchors = %anchors.display(),
        issuer = %issuer.display(),
        "issuing certificates under the trust anchors"
    );
}
