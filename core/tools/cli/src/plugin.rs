//! `strait plugin ...`: tools for plugin authors and operators.

use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};
use strait_plugin_config::PLUGINS_CONFIG_MAP;
use strait_plugin_host::PluginKind;
use strait_plugin_tools::{build, cases, configmap, scaffold};

mod push;

/// The exit status of `plugin test` when the plugin or the cases cannot be
/// used at all, so scripts can tell a broken setup from failing cases (1).
const UNUSABLE: u8 = 2;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Create a plugin crate that builds anywhere with Rust and crates.io.
    ///
    /// Writes ./NAME (or --path): the plugin's source implementing the kind
    /// with the strait plugin SDK, a cases file for `strait plugin test`, and
    /// the SDK and WIT contracts of this strait, so no checkout of strait is
    /// needed. Refuses a directory that exists and is not empty.
    New {
        /// The plugin kind.
        #[arg(long, value_enum)]
        kind: Kind,
        /// The crate's name (ASCII letters, digits, `-`, `_`).
        name: String,
        /// Where to write the crate (default: ./NAME).
        #[arg(long)]
        path: Option<PathBuf>,
    },
    /// Build the plugin crate here for wasm32-wasip2 and validate it.
    ///
    /// Runs `cargo build --release --target wasm32-wasip2` (cargo's messages
    /// on stderr), checks the component as `strait plugin check` does (as
    /// --kind, or as the world it implements) and prints its path, so
    /// `strait plugin push --kind authz $(strait plugin build)` works.
    Build {
        /// The plugin crate's directory.
        #[arg(long, default_value = ".")]
        path: PathBuf,
        /// The plugin kind (default: the world the component implements).
        #[arg(long, value_enum)]
        kind: Option<Kind>,
    },
    /// Validate a plugin as the mesh would before activating it.
    ///
    /// The plugin must be a component of the kind's world, import nothing
    /// beyond it, and answer a smoke call. Prints `ok <kind> <sha256>`, or
    /// the reason on stderr and exits 1. Without FILE, checks the built-in
    /// default plugin of the kind.
    Check {
        /// The plugin kind.
        #[arg(long, value_enum)]
        kind: Kind,
        /// A `.wasm` component or `.wat` text.
        file: Option<PathBuf>,
    },
    /// Run a plugin against a cases file, through the same host as the mesh.
    ///
    /// Prints `PASS <name>` or `FAIL <name>: expected <x>, got <y>` per case,
    /// then `N passed, M failed`. Exits 0 when every case passes, 1 when any
    /// fails, and 2 when the plugin or the cases file cannot be used (the
    /// error names the case and the field). The cases format is in the
    /// plugin documentation; `strait plugin new` writes an example.
    Test {
        /// A `.wasm` component or `.wat` text.
        file: PathBuf,
        /// The cases file (YAML).
        #[arg(long)]
        cases: PathBuf,
        /// The plugin kind (default: the world the component implements).
        #[arg(long, value_enum)]
        kind: Option<Kind>,
    },
    /// Print the plugins ConfigMap that the control plane loads plugins from.
    ///
    /// Each plugin is validated first; a plugin not given is the built-in
    /// default. Apply the output with `kubectl apply -f -`.
    Configmap {
        /// The authz plugin (default: the built-in one).
        #[arg(long)]
        authz: Option<PathBuf>,
        /// The export plugin (default: the built-in one).
        #[arg(long)]
        export: Option<PathBuf>,
        /// The ConfigMap's name.
        #[arg(long, default_value = PLUGINS_CONFIG_MAP)]
        name: String,
        /// The control plane's namespace.
        #[arg(long, short = 'n', default_value = "linkerd")]
        namespace: String,
        /// A version for the plugins, shown in metrics and logs instead of the digest.
        #[arg(long)]
        plugin_version: Option<String>,
    },
    /// Hot-reload a plugin: validate it, then write it into the plugins
    /// ConfigMap (`strait-plugins` in `-n`, default `linkerd`) of the
    /// cluster `--context` names: a running `strait local` cluster or a
    /// kubeconfig context.
    ///
    /// The control plane validates it again, hands it to the proxies (authz)
    /// or the service mirrors (export), and reports the outcome in the
    /// annotation `status.strait.io/<kind>.wasm` of the ConfigMap
    /// `strait-plugins-status` beside it and in an Event; a rejected plugin
    /// leaves the last good one in place.
    Push {
        /// The plugin kind.
        #[arg(long, value_enum)]
        kind: Kind,
        /// A `.wasm` component or `.wat` text.
        file: PathBuf,
        /// A version for the plugin, shown in metrics and logs instead of the digest.
        #[arg(long)]
        plugin_version: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    /// Decides how remote Services are exported (world strait:export-mode/export-plugin).
    Export,
    /// Decides whether inbound requests are admitted (world strait:authz/authz-plugin).
    Authz,
}

impl From<Kind> for PluginKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Export => PluginKind::Export,
            Kind::Authz => PluginKind::Authz,
        }
    }
}

pub fn run(command: PluginCommand, scope: &crate::context::Scope) -> ExitCode {
    match command {
        PluginCommand::New { kind, name, path } => new(kind.into(), &name, path.as_deref()),
        PluginCommand::Build { path, kind } => match build::build(&path, kind.map(Into::into)) {
            Ok((component, info)) => {
                eprintln!(
                    "ok {} plugin {} (sha256 {})",
                    info.kind,
                    component.display(),
                    info.digest
                );
                println!("{}", component.display());
                ExitCode::SUCCESS
            }
            Err(error) => failed(error),
        },
        PluginCommand::Push {
            kind,
            file,
            plugin_version,
        } => push::push(scope, kind.into(), &file, plugin_version.as_deref()),
        PluginCommand::Check { kind, file } => {
            let kind = PluginKind::from(kind);
            printed(
                strait_plugin_tools::check(kind, file.as_deref())
                    .map(|info| format!("ok {kind} {}\n", info.digest)),
            )
        }
        PluginCommand::Test { file, cases, kind } => {
            match cases::test(&file, &cases, kind.map(Into::into)) {
                Ok(report) => {
                    print!("{report}");
                    if report.failed() == 0 {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::from(UNUSABLE)
                }
            }
        }
        PluginCommand::Configmap {
            authz,
            export,
            name,
            namespace,
            plugin_version,
        } => printed(configmap::render(
            authz.as_deref(),
            export.as_deref(),
            &name,
            &namespace,
            plugin_version.as_deref(),
        )),
    }
}

/// Writes a new plugin crate and says what to do next.
fn new(kind: PluginKind, name: &str, path: Option<&Path>) -> ExitCode {
    let dir = path.map_or_else(|| PathBuf::from(name), Path::to_path_buf);
    if let Err(error) = scaffold::create(kind, name, &dir) {
        return failed(error);
    }
    println!("created {kind} plugin {name} in {}", dir.display());
    println!();
    println!("  cd {}", dir.display());
    println!("  strait plugin build                          # prints the component's path");
    println!("  strait plugin test $(strait plugin build) --cases cases.yaml");
    println!("  strait plugin push --kind {kind} $(strait plugin build)");
    ExitCode::SUCCESS
}

/// Prints `output`, or the error.
fn printed<E: Display>(output: Result<String, E>) -> ExitCode {
    match output {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(error) => failed(error),
    }
}

fn failed(error: impl Display) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
