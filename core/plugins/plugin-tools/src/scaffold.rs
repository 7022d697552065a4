//! `strait plugin new`: a plugin crate that builds on any machine with the
//! Rust toolchain and crates.io, with no checkout of strait. The SDK's
//! source and the WIT contracts are compiled into the `strait` binary and
//! written beside the plugin, so a scaffold always carries the contracts of
//! the mesh that created it.

use std::path::Path;

use strait_plugin_host::PluginKind;

use crate::ToolError;

/// Where the SDK is written inside a new crate. The SDK reads the contracts
/// from `../../wit/<kind>` of its own directory, so it sits two levels below
/// the crate root, whose `wit/` holds the contracts.
pub const SDK_DIR: &str = "vendor/strait-plugin-sdk";

/// The repository's workspace manifest, for the settings the SDK's manifest
/// inherits (edition, rust-version, the wit-bindgen version).
const WORKSPACE_MANIFEST: &str = include_str!("../../../../Cargo.toml");
/// The repository's toolchain file: same channel, `wasm32-wasip2` listed.
const RUST_TOOLCHAIN: &str = include_str!("../../../../rust-toolchain.toml");

/// The WIT contracts, by path inside the new crate.
const WIT_FILES: &[(&str, &str)] = &[
    (
        "wit/authz/authz.wit",
        include_str!("../../../../wit/authz/authz.wit"),
    ),
    (
        "wit/export/export.wit",
        include_str!("../../../../wit/export/export.wit"),
    ),
];

/// Every file of `plugins/sdk`, by path inside the SDK's directory.
pub const SDK_FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../../../plugins/sdk/Cargo.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../../../../plugins/sdk/src/lib.rs"),
    ),
    (
        "src/authz.rs",
        include_str!("../../../../plugins/sdk/src/authz.rs"),
    ),
    (
        "src/export.rs",
        include_str!("../../../../plugins/sdk/src/export.rs"),
    ),
    (
        "src/identity.rs",
        include_str!("../../../../plugins/sdk/src/identity.rs"),
    ),
    (
        "src/identity/tests.rs",
        include_str!("../../../../plugins/sdk/src/identity/tests.rs"),
    ),
    (
        "src/log.rs",
        include_str!("../../../../plugins/sdk/src/log.rs"),
    ),
    (
        "src/net.rs",
        include_str!("../../../../plugins/sdk/src/net.rs"),
    ),
    (
        "src/net/tests.rs",
        include_str!("../../../../plugins/sdk/src/net/tests.rs"),
    ),
    (
        "src/selector.rs",
        include_str!("../../../../plugins/sdk/src/selector.rs"),
    ),
    (
        "src/selector/tests.rs",
        include_str!("../../../../plugins/sdk/src/selector/tests.rs"),
    ),
];

const AUTHZ_LIB: &str = include_str!("scaffold/authz/lib.rs");
const AUTHZ_CASES: &str = include_str!("scaffold/authz/cases.yaml");
const EXPORT_LIB: &str = include_str!("scaffold/export/lib.rs");
const EXPORT_CASES: &str = include_str!("scaffold/export/cases.yaml");
const README: &str = include_str!("scaffold/README.md");
const GITIGNORE: &str = include_str!("scaffold/gitignore");

/// Writes a new plugin crate of `kind` named `name` into `dir`, which
/// must not exist or be empty.
pub fn create(kind: PluginKind, name: &str, dir: &Path) -> Result<(), ToolError> {
    let files = files(kind, name)?;
    write(dir, &files)
}

/// A new crate's files: path inside the crate, contents.
pub fn files(kind: PluginKind, name: &str) -> Result<Vec<(String, String)>, ToolError> {
    check_name(name)?;
    let (lib, cases) = match kind {
        PluginKind::Authz => (AUTHZ_LIB, AUTHZ_CASES),
        PluginKind::Export => (EXPORT_LIB, EXPORT_CASES),
    };
    let wasm = format!("{}.wasm", name.replace('-', "_"));
    let readme = README
        .replace("{{name}}", name)
        .replace("{{kind}}", kind.as_str())
        .replace("{{world}}", kind.world())
        .replace("{{wasm}}", &wasm);
    let mut files = vec![
        ("Cargo.toml".to_string(), manifest(kind, name)?),
        (
            "rust-toolchain.toml".to_string(),
            RUST_TOOLCHAIN.to_string(),
        ),
        ("src/lib.rs".to_string(), lib.to_string()),
        ("cases.yaml".to_string(), cases.to_string()),
        ("README.md".to_string(), readme),
        (".gitignore".to_string(), GITIGNORE.to_string()),
    ];
    files.extend(
        WIT_FILES
            .iter()
            .map(|(path, text)| (path.to_string(), text.to_string())),
    );
    files.extend(
        SDK_FILES
            .iter()
            .map(|(path, text)| (format!("{SDK_DIR}/{path}"), text.to_string())),
    );
    Ok(files)
}

/// The crate's manifest. Its own `[workspace]` keeps it out of any
/// workspace it is created in, and provides what the SDK's manifest
/// inherits, taken from strait's own workspace.
fn manifest(kind: PluginKind, name: &str) -> Result<String, ToolError> {
    let setting = |key: &str| {
        workspace_setting(WORKSPACE_MANIFEST, key).ok_or_else(|| ToolError::MissingSetting {
            key: key.to_string(),
        })
    };
    let edition = setting("edition")?;
    let rust_version = setting("rust-version")?;
    let wit_bindgen = setting("wit-bindgen")?;
    let what = match kind {
        PluginKind::Authz => "decides whether inbound requests are admitted",
        PluginKind::Export => "decides how remote Services are exported",
    };
    Ok(format!(
        r#"[package]
name = "{name}"
description = "A strait {kind} plugin: {what}."
version = "0.1.0"
edition.workspace = true
rust-version.workspace = true
publish = false

# A plugin is a Wasm component: `strait plugin build` compiles it for
# wasm32-wasip2 and validates it.
[lib]
crate-type = ["cdylib"]

[dependencies]
strait-plugin-sdk = {{ path = "{SDK_DIR}" }}

# A workspace of its own, so the crate builds wherever it is put; the SDK
# beside it inherits these settings.
[workspace]
resolver = "3"

[workspace.package]
version = "0.1.0"
{edition}
{rust_version}
license = "Apache-2.0"
publish = false

[workspace.dependencies]
{wit_bindgen}

# Small components load and compile faster in every proxy.
[profile.release]
opt-level = "s"
lto = true
codegen-units = 1
panic = "abort"
strip = true
debug = false
"#
    ))
}

/// The line `key = ...` of a workspace manifest, as written there.
pub fn workspace_setting(manifest: &str, key: &str) -> Option<String> {
    manifest
        .lines()
        .map(str::trim)
        .find(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(str::to_string)
}

/// Rust keywords and names cargo refuses for packages.
const RESERVED: &[&str] = &[
    "abstract",
    "alloc",
    "as",
    "async",
    "await",
    "become",
    "box",
    "break",
    "const",
    "continue",
    "core",
    "crate",
    "do",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "final",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "macro",
    "match",
    "mod",
    "move",
    "mut",
    "override",
    "priv",
    "proc_macro",
    "proc-macro",
    "pub",
    "ref",
    "return",
    "self",
    "Self",
    "static",
    "std",
    "struct",
    "super",
    "test",
    "trait",
    "true",
    "try",
    "type",
    "typeof",
    "unsafe",
    "unsized",
    "use",
    "virtual",
    "where",
    "while",
    "yield",
];

/// Accepts what cargo accepts as a package name and what can stand beside
/// the SDK: ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn check_name(name: &str) -> Result<(), ToolError> {
    let bad = |why: &str| {
        Err(ToolError::CrateName {
            name: name.to_string(),
            reason: why.to_string(),
        })
    };
    let Some(first) = name.chars().next() else {
        return bad("it is empty");
    };
    if !first.is_ascii_alphabetic() {
        return bad("it must start with an ASCII letter");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return bad(&format!(
            "{c:?} is not allowed (use ASCII letters, digits, `-` and `_`)"
        ));
    }
    if name.len() > 64 {
        return bad("it is longer than 64 characters");
    }
    if RESERVED.contains(&name) {
        return bad("it is a Rust keyword or a reserved crate name");
    }
    if [
        "strait-plugin-sdk",
        "strait_plugin_sdk",
        "wit-bindgen",
        "wit_bindgen",
    ]
    .contains(&name)
    {
        return bad("a plugin's dependency has that name");
    }
    Ok(())
}

/// Writes `files` under `dir`, which must not exist or be empty: nothing a
/// user has is ever overwritten.
fn write(dir: &Path, files: &[(String, String)]) -> Result<(), ToolError> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| ToolError::io("read", dir, e))?;
        if entries.next().is_some() {
            return Err(ToolError::NotEmpty {
                dir: dir.to_path_buf(),
            });
        }
    }
    for (path, text) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| ToolError::io("create", parent, e))?;
        }
        std::fs::write(&target, text).map_err(|e| ToolError::io("write", &target, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
