//! The two plugin kinds and the digest that names a plugin's bytes.
//!
//! The same kind names and digests appear in the plugins ConfigMap, on the
//! distribution stream between the control plane and the proxies, in the
//! host that runs plugins, in metrics labels and in `strait plugin`'s
//! output. A proxy skips a plugin whose digest it already runs, and refuses
//! one whose bytes do not hash to the digest it was sent with; both only
//! work if every party spells the kind and computes the digest the same way.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// The two plugin kinds, each a WIT world. Each kind is configured,
/// offered, watched and swapped on its own, so replacing the exporter never
/// disturbs the authorization decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// `strait:authz/authorizer`: whether an inbound request is admitted.
    Authz,
    /// `strait:export-mode/exporter`: how a remote Service is mirrored.
    Export,
}

impl PluginKind {
    /// Every kind, for code that serves or watches them all.
    pub const ALL: [PluginKind; 2] = [PluginKind::Authz, PluginKind::Export];

    /// The name used on the wire, on the command line and in metrics
    /// (`"authz"`, `"export"`).
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Authz => "authz",
            PluginKind::Export => "export",
        }
    }

    /// The world a plugin of this kind implements.
    pub fn world(self) -> &'static str {
        match self {
            PluginKind::Export => "strait:export-mode/export-plugin@0.2.0",
            PluginKind::Authz => "strait:authz/authz-plugin@0.1.0",
        }
    }

    /// The interface the world exports, without its version.
    pub fn entry_point(self) -> &'static str {
        match self {
            PluginKind::Export => "strait:export-mode/exporter",
            PluginKind::Authz => "strait:authz/authorizer",
        }
    }

    /// The WIT package of the world, whose interfaces plugins may import.
    pub fn package(self) -> &'static str {
        match self {
            PluginKind::Export => "strait:export-mode/",
            PluginKind::Authz => "strait:authz/",
        }
    }
}

impl fmt::Display for PluginKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind name that is not one of [`PluginKind::ALL`], kept so the refusal
/// can say what was asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown plugin kind {:?}, expected \"authz\" or \"export\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for PluginKind {
    type Err = UnknownKind;

    /// Reads a name exactly: a proxy asking for `"Authz"` is misconfigured,
    /// and is told so rather than guessed at.
    fn from_str(name: &str) -> Result<PluginKind, UnknownKind> {
        PluginKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| UnknownKind(name.to_string()))
    }
}

/// The lowercase hex sha256 of a plugin's bytes: what proxies compare to
/// know whether they already run it, and what operators see next to its
/// version.
pub fn plugin_digest(wasm: &[u8]) -> String {
    let hash = Sha256::digest(wasm);
    let mut hex = String::with_capacity(hash.len() * 2);
    for byte in hash {
        hex.push(char::from(HEX[usize::from(byte >> 4)]));
        hex.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    hex
}

/// The first 12 hex digits of a digest: enough to tell plugins apart in
/// logs, statuses and metrics, and what stands in for a version label the
/// operator did not give. A string shorter than that is returned whole.
pub fn short_digest(digest: &str) -> &str {
    digest.get(..SHORT_DIGEST_LEN).unwrap_or(digest)
}

const SHORT_DIGEST_LEN: usize = 12;

const HEX: &[u8; 16] = b"0123456789abcdef";

#[cfg(test)]
mod tests;
