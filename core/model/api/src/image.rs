//! The one container image every strait component runs from, and where its
//! programs are inside it.
//!
//! The installer, the injector and the Dockerfile must agree on these, or a
//! rendered manifest starts a container that has no such program. The Rust
//! side reads them from here; a test holds `deploy/Dockerfile` to them.

/// The repository the published image lives in; `--image` overrides it.
pub const DEFAULT_REPOSITORY: &str = "ghcr.io/strait-mesh/strait";

/// The `strait` command inside the image: controllers, `proxy-init`.
pub const STRAIT_BIN: &str = "/usr/local/bin/strait";

/// The sidecar proxy inside the image, a smaller program than `strait`
/// so that each pod's proxy maps less memory.
pub const PROXY_BIN: &str = "/usr/local/bin/strait-proxy";

/// The user the proxy runs as. The init container's iptables rules let
/// this user's traffic out unredirected, which is how the proxy's own
/// connections escape the redirection; it is Linkerd's, so existing pod
/// security policies written for Linkerd fit.
pub const PROXY_UID: i64 = 2102;

/// The image of this build: [`DEFAULT_REPOSITORY`] tagged with the crate's
/// version, so manifests rendered by a given `strait` run that same build.
pub fn default_image() -> String {
    format!("{DEFAULT_REPOSITORY}:{}", env!("CARGO_PKG_VERSION"))
}

#[cfg(test)]
mod tests;
