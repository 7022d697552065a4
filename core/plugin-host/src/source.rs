//! Where plugin bytes come from: a file, memory, or a ConfigMap's `binaryData`.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::error::PluginError;

/// The ConfigMap the control plane watches for plugins.
pub const PLUGINS_CONFIG_MAP: &str = "strait-plugins";
/// Its `binaryData` key holding the authz plugin.
pub const AUTHZ_PLUGIN_KEY: &str = "authz.wasm";
/// Its `binaryData` key holding the export plugin.
pub const EXPORT_PLUGIN_KEY: &str = "export.wasm";
/// Its annotation naming the plugins' version (the `version` metric label).
pub const PLUGIN_VERSION_ANNOTATION: &str = "strait.io/plugin-version";

/// Builds the plugins ConfigMap: each given plugin under its key in
/// `binaryData`, and the version annotation when a version is given.
pub fn plugins_config_map(
    name: &str,
    namespace: &str,
    plugins: &[(&str, &[u8])],
    version: Option<&str>,
) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/part-of".to_string(),
                "strait".to_string(),
            )])),
            annotations: version
                .map(|v| BTreeMap::from([(PLUGIN_VERSION_ANNOTATION.to_string(), v.to_string())])),
            ..Default::default()
        },
        binary_data: Some(
            plugins
                .iter()
                .map(|(key, bytes)| (key.to_string(), ByteString(bytes.to_vec())))
                .collect(),
        ),
        ..Default::default()
    }
}

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
    /// A key of a ConfigMap: `binaryData` (a component), else `data` (WAT text).
    ConfigMap {
        /// The ConfigMap as read from the API server.
        config_map: &'a ConfigMap,
        /// The key, e.g. `authz.wasm`.
        key: &'a str,
        /// Annotation whose value, if present, is the version label.
        version_annotation: Option<&'a str>,
    },
}

impl PluginSource<'_> {
    /// Reads the bytes. Missing files and keys are errors naming the file or
    /// the ConfigMap and its keys.
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
            PluginSource::ConfigMap {
                config_map,
                key,
                version_annotation,
            } => read_config_map(config_map, key, version_annotation),
        }
    }
}

fn read_config_map(
    config_map: &ConfigMap,
    key: &str,
    version_annotation: Option<&str>,
) -> Result<PluginBytes, PluginError> {
    let meta = &config_map.metadata;
    let origin = format!(
        "ConfigMap {}/{} key {key}",
        meta.namespace.as_deref().unwrap_or("default"),
        meta.name.as_deref().unwrap_or("<unnamed>")
    );
    let version = version_annotation.and_then(|annotation| {
        meta.annotations
            .as_ref()
            .and_then(|a| a.get(annotation))
            .filter(|v| !v.is_empty())
            .cloned()
    });
    if let Some(bytes) = config_map.binary_data.as_ref().and_then(|d| d.get(key)) {
        return Ok(PluginBytes {
            origin,
            bytes: bytes.0.clone(),
            version,
        });
    }
    if let Some(text) = config_map.data.as_ref().and_then(|d| d.get(key)) {
        return Ok(PluginBytes {
            origin,
            bytes: text.as_bytes().to_vec(),
            version,
        });
    }
    let mut keys: Vec<&str> = config_map
        .binary_data
        .iter()
        .flat_map(|d| d.keys())
        .chain(config_map.data.iter().flat_map(|d| d.keys()))
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    let present = if keys.is_empty() {
        "it has no keys".to_string()
    } else {
        format!("its keys are {}", keys.join(", "))
    };
    Err(PluginError::Read {
        origin,
        reason: format!("no such key in binaryData or data; {present}"),
    })
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
