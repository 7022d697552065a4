//! Where plugin bytes come from: a file or memory. Reading them out of
//! the plugins ConfigMap is `strait-plugin-config`'s business, so the host
//! knows nothing of Kubernetes.

use std::path::Path;

use crate::error::PluginError;

/// A plugin's bytes with where they came from and an optional version label.
#[derive(Clone, Debug)]
pub struct PluginBytes {
    /// Shown in errors and logs, e.g. `file plugins/authz.wasm`.
    pub origin: String,
    /// A `.wasm` component or WAT text.
    pub bytes: Vec<u8>,
    /// A version given with the plugin (e.g. a ConfigMap annotation); used as
    /// the `version` metric label instead of the digest.
    pub version: Option<String>,
}

/// A place to load a plugin from.
#[derive(Clone, Copy, Debug)]
pub enum PluginSource<'a> {
    /// A `.wasm` or `.wat` file.
    File(&'a Path),
    /// Bytes already in memory, e.g. the embedded defaults.
    Bytes {
        /// A name for errors and logs.
        name: &'a str,
        /// The component or WAT text.
        bytes: &'a [u8],
    },
}

impl PluginSource<'_> {
    /// Reads the bytes. A missing file is an error naming it.
    pub fn read(&self) -> Result<PluginBytes, PluginError> {
        match *self {
            PluginSource::File(path) => {
                let origin = format!("file {}", path.display());
                let bytes = std::fs::read(path).map_err(|e| PluginError::Read {
                    origin: origin.clone(),
                    reason: e.to_string(),
                })?;
                Ok(PluginBytes {
                    origin,
                    bytes,
                    version: None,
                })
            }
            PluginSource::Bytes { name, bytes } => Ok(PluginBytes {
                origin: name.to_string(),
                bytes: bytes.to_vec(),
                version: None,
            }),
        }
    }
}

impl PluginBytes {
    /// The component's binary form: checks the bytes are a component (not a
    /// core module, not garbage) and assembles WAT text. What is handed on
    /// to proxies, which must not need a WAT assembler.
    pub fn component_binary(&self) -> Result<std::borrow::Cow<'_, [u8]>, PluginError> {
        let not_component = |reason: String| PluginError::NotAComponent {
            origin: self.origin.clone(),
            reason,
        };
        let bytes = &self.bytes;
        if bytes.is_empty() {
            return Err(not_component("it is empty".into()));
        }
        if bytes.starts_with(b"\0asm") {
            return match bytes.get(4..8) {
                Some([_, _, 0, 0]) => Err(not_component(
                    "it is a core Wasm module; plugins are components (build for wasm32-wasip2, \
                     or wrap the module with `wasm-tools component new`)"
                        .into(),
                )),
                Some([_, _, 1, 0]) => Ok(std::borrow::Cow::Borrowed(bytes)),
                _ => Err(not_component(
                    "its Wasm header has an unknown version or layer".into(),
                )),
            };
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) if looks_like_wat(text) => text,
            _ => {
                let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
                return Err(not_component(format!(
                    "it starts with bytes {} (neither the `\\0asm` header nor WAT text)",
                    head.join(" ")
                )));
            }
        };
        let binary = wat::parse_str(text).map_err(|e| PluginError::Compile {
            origin: self.origin.clone(),
            reason: wat_error(&e),
        })?;
        if binary.get(4..8) == Some(&[0x01, 0x00, 0x00, 0x00]) {
            return Err(not_component(
                "the WAT text is a core module `(module ...)`; plugins are components `(component ...)`".into(),
            ));
        }
        Ok(std::borrow::Cow::Owned(binary))
    }
}

/// wat's errors span several lines (a source excerpt); keep the message and
/// its position on one line.
fn wat_error(err: &wat::Error) -> String {
    let text = err.to_string();
    let message = text.lines().next().unwrap_or("").trim();
    let position = text
        .lines()
        .find_map(|l| l.split_once("-->").map(|(_, at)| at.trim()))
        .and_then(|at| {
            at.rsplit_once(':')
                .and_then(|(rest, col)| Some((rest.rsplit_once(':')?.1, col)))
        });
    match position {
        Some((line, column)) => format!("invalid WAT at line {line}, column {column}: {message}"),
        None => format!("invalid WAT: {message}"),
    }
}

/// WAT starts, after blanks and comments, with `(`.
fn looks_like_wat(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix(";;") {
            rest = after
                .split_once('\n')
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else if let Some(after) = rest.strip_prefix("(;") {
            rest = after
                .split_once(";)")
                .map(|(_, r)| r)
                .unwrap_or("")
                .trim_start();
        } else {
            return rest.starts_with('(');
        }
    }
}

#[cfg(test)]
mod tests;
