//! Why a plugin was refused or could not run.

use crate::version::PluginKind;

/// A plugin could not be loaded, validated or run. Every variant names what is
/// wrong and where, in one line, so it can be shown as is by `strait plugin
/// check`, logged by the controller and written into a ConfigMap's status.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// The source could not be read.
    #[error("cannot read plugin {origin}: {reason}")]
    Read {
        /// Where the plugin came from.
        origin: String,
        /// The I/O or lookup failure.
        reason: String,
    },
    /// The bytes are neither a Wasm component nor WAT text.
    #[error("{origin} is not a Wasm component: {reason}")]
    NotAComponent {
        /// Where the plugin came from.
        origin: String,
        /// What the bytes are instead.
        reason: String,
    },
    /// The component does not compile.
    #[error("{origin} does not compile: {reason}")]
    Compile {
        /// Where the plugin came from.
        origin: String,
        /// The compiler's message.
        reason: String,
    },
    /// The component implements another world than its kind requires.
    #[error("{origin} is not an {kind} plugin: {reason}")]
    WrongWorld {
        /// Where the plugin came from.
        origin: String,
        /// The kind it was loaded as.
        kind: PluginKind,
        /// What is missing or mismatched.
        reason: String,
    },
    /// The component imports something plugins are not given.
    #[error("{origin} imports `{import}`, {reason}")]
    ForbiddenImport {
        /// Where the plugin came from.
        origin: String,
        /// The import's name.
        import: String,
        /// Which capability that is and why it is refused.
        reason: String,
    },
    /// The component failed its smoke call.
    #[error("{origin} failed its smoke call: {reason}")]
    SmokeCall {
        /// Where the plugin came from.
        origin: String,
        /// How the call failed.
        reason: String,
    },
    /// The runtime could not set the plugin up (e.g. the instance pool is full).
    #[error("cannot run plugin {origin}: {reason}")]
    Runtime {
        /// Where the plugin came from.
        origin: String,
        /// The runtime's message.
        reason: String,
    },
}

/// Joins a multi-line message (compiler output, error chains) into one line,
/// since every reason here is shown as a single line.
pub(crate) fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
