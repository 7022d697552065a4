//! What `strait plugin` does for plugin authors and operators, as a
//! library: the command only parses its arguments and prints what these
//! return.
//!
//! - [`scaffold`]: a new plugin crate that builds anywhere with Rust and
//!   crates.io, carrying the SDK and the WIT contracts of this strait.
//! - [`build`]: the crate compiled for `wasm32-wasip2` with the user's own
//!   cargo, and the component validated as the mesh would.
//! - [`check`] and [`cases`]: a plugin validated, or run against a cases
//!   file, through the plugin host the mesh runs.
//! - [`configmap`]: the plugins ConfigMap the control plane follows, whole
//!   or with one plugin pushed into the one a cluster has.
//! - [`push`]: one plugin checked, then written into a cluster's plugins
//!   ConfigMap (`strait plugin push`, and the reliability drills' pushes).

use std::path::{Path, PathBuf};

use strait_plugin_cases::CasesError;
use strait_plugin_host::{
    HostConfig, PluginBytes, PluginError, PluginHost, PluginKind, PluginMetrics, PluginSource,
    VersionInfo,
};

pub mod build;
pub mod cases;
pub mod configmap;
pub mod push;
pub mod scaffold;

/// Why a plugin tool did not do what was asked, naming the file, the
/// crate or the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The plugin could not be read, or the mesh would refuse it.
    #[error(transparent)]
    Plugin(Box<PluginError>),
    /// The crate name is not one cargo and the SDK accept.
    #[error("{name:?} is not a valid crate name: {reason}")]
    CrateName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scaffold would overwrite what is there.
    #[error("{} already exists and is not empty; choose another name or --path", dir.display())]
    NotEmpty {
        /// The directory given.
        dir: PathBuf,
    },
    /// A file or directory could not be read, created or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read`, `create` or `write`.
        action: &'static str,
        /// What.
        path: PathBuf,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// This strait was built without a setting its scaffolds need.
    #[error("this strait was built without a `{key}` workspace setting to give plugins")]
    MissingSetting {
        /// The workspace setting.
        key: String,
    },
    /// The directory to build is not a crate.
    #[error(
        "{} has no Cargo.toml: run `strait plugin build` inside a plugin crate, or pass --path \
         (`strait plugin new` creates one)",
        dir.display()
    )]
    NotACrate {
        /// The directory given.
        dir: PathBuf,
    },
    /// Cargo could not be run.
    #[error("cannot run cargo ({source}): install Rust (rustup) to build plugins")]
    NoCargo {
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// Cargo ran and failed.
    #[error(
        "cargo build failed ({status}){}",
        if *missing_target {
            format!("; the {target} target is missing: `rustup target add {target}`", target = build::TARGET)
        } else {
            String::new()
        }
    )]
    BuildFailed {
        /// How cargo exited.
        status: std::process::ExitStatus,
        /// Whether cargo said the target is not installed.
        missing_target: bool,
    },
    /// Cargo built the crate but no component came of it.
    #[error(
        "cargo built {} but produced no .wasm component for it: its [lib] needs \
         crate-type = [\"cdylib\"]",
        manifest.display()
    )]
    NoComponent {
        /// The crate's manifest.
        manifest: PathBuf,
    },
    /// The cases file is not one `strait plugin test` reads.
    #[error("cases file {}: {source}", path.display())]
    Cases {
        /// The cases file.
        path: PathBuf,
        /// What is wrong, naming the case and field.
        #[source]
        source: Box<CasesError>,
    },
    /// The ConfigMap could not be written as YAML.
    #[error("the plugins ConfigMap: {0}")]
    Render(#[source] serde_norway::Error),
}

impl From<PluginError> for ToolError {
    fn from(error: PluginError) -> Self {
        ToolError::Plugin(Box::new(error))
    }
}

impl ToolError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> Self {
        ToolError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The plugin host the mesh runs, with its default limits.
pub fn host() -> Result<PluginHost, PluginError> {
    PluginHost::new(HostConfig::default(), PluginMetrics::new())
}

/// The plugin in `file`, or the built-in default of `kind`.
pub fn read(kind: PluginKind, file: Option<&Path>) -> Result<PluginBytes, PluginError> {
    match file {
        Some(path) => PluginSource::File(path).read(),
        None => PluginSource::Bytes {
            name: match kind {
                PluginKind::Authz => "the built-in authz plugin",
                PluginKind::Export => "the built-in export plugin",
            },
            bytes: match kind {
                PluginKind::Authz => strait_default_plugins::AUTHZ_DEFAULT,
                PluginKind::Export => strait_default_plugins::EXPORT_DEFAULT,
            },
        }
        .read(),
    }
}

/// Validates the plugin in `file` (or the built-in default) as a plugin of
/// `kind`, as the mesh would before activating it.
pub fn check(kind: PluginKind, file: Option<&Path>) -> Result<VersionInfo, PluginError> {
    let plugin = read(kind, file)?;
    host()?.check(kind, &plugin)
}

/// Validates `plugin` as `kind`, or, without one, as whichever world it
/// implements; the error names both worlds when it implements neither.
pub fn validate(
    plugin: &PluginBytes,
    kind: Option<PluginKind>,
) -> Result<VersionInfo, PluginError> {
    let host = host()?;
    match kind {
        Some(kind) => host.check(kind, plugin),
        None => match host.check(PluginKind::Authz, plugin) {
            Err(PluginError::WrongWorld { .. }) => match host.check(PluginKind::Export, plugin) {
                Err(PluginError::WrongWorld { origin, .. }) => Err(PluginError::WrongWorld {
                    origin,
                    kind: PluginKind::Authz,
                    reason: format!(
                        "it implements neither {} nor {}",
                        PluginKind::Authz.world(),
                        PluginKind::Export.world()
                    ),
                }),
                other => other,
            },
            other => other,
        },
    }
}

#[cfg(test)]
mod tests;
