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
