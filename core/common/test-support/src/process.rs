//! Child processes: finding the programs tests drive, and reading what
//! they printed.

use std::path::PathBuf;
use std::process::Output;

/// The program `name`: the path in environment variable `variable` when it
/// is set, else the first `name` on `PATH`. `None` when there is none, for
/// tests that skip (saying so) where an external tool is missing.
pub fn find_program(variable: &str, name: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(variable) {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The environment variable `.ci/run` sets: every tool a test needs is
/// installed there, so a missing one is a failure, not a skip.
pub const REQUIRE_TOOLS: &str = "STRAIT_REQUIRE_TOOLS";

/// A test cannot run because a tool is missing (`why` says which and how
/// to get it): it says so and the caller returns, passing; where
/// [`REQUIRE_TOOLS`] is set (CI, which installs every tool) it fails
/// instead, so a test never passes there without having run.
pub fn tool_missing(why: &str) {
    if let Err(failure) = missing(why, std::env::var_os(REQUIRE_TOOLS).is_some()) {
        panic!("{failure}");
    }
}

/// [`tool_missing`]'s verdict: a skip, said, or (`required`) a failure.
fn missing(why: &str, required: bool) -> Result<(), String> {
    if required {
        return Err(format!(
            "{why} ({REQUIRE_TOOLS} is set: the tool is required here)"
        ));
    }
    eprintln!("SKIPPED: {why}");
    Ok(())
}

/// [`tool_missing`] with a formatted reason: `tool_missing!("no {tool} on PATH")`.
#[macro_export]
macro_rules! tool_missing {
    ($($arg:tt)*) => {
        $crate::process::tool_missing(&format!($($arg)*))
    };
}

/// Bytes a process printed, as text (invalid UTF-8 replaced, so that a
/// failure message shows what came rather than failing itself).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// What `output`'s process printed on stdout.
pub fn stdout(output: &Output) -> String {
    text(&output.stdout)
}

/// What `output`'s process printed on stderr.
pub fn stderr(output: &Output) -> String {
    text(&output.stderr)
}

#[cfg(test)]
mod tests;
