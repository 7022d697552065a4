//! Compiles the plugin crates of this workspace for `wasm32-wasip2` with a
//! nested cargo invocation (the way wasmtime's test-programs artifacts are
//! built), so a plain `cargo build` or `cargo test` produces the components
//! that the host embeds. The nested build uses its own target directory next to
//! the outer one, so it never waits on the outer build's lock and is shared by
//! every profile.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

/// (package, artifact stem, env var announcing its path)
const PLUGINS: &[(&str, &str, &str)] = &[
    (
        "strait-authz-default",
        "strait_authz_default",
        "STRAIT_AUTHZ_DEFAULT_WASM",
    ),
    (
        "strait-export-default",
        "strait_export_default",
        "STRAIT_EXPORT_DEFAULT_WASM",
    ),
    (
        "strait-authz-faulty",
        "strait_authz_faulty",
        "STRAIT_AUTHZ_FAULTY_WASM",
    ),
    (
        "strait-export-faulty",
        "strait_export_faulty",
        "STRAIT_EXPORT_FAULTY_WASM",
    ),
    (
        "strait-export-v0-1",
        "strait_export_v0_1",
        "STRAIT_EXPORT_V0_1_WASM",
    ),
    (
        "strait-example-authz-namespaces",
        "strait_example_authz_namespaces",
        "STRAIT_EXAMPLE_AUTHZ_NAMESPACES_WASM",
    ),
    (
        "strait-example-export-by-annotation",
        "strait_example_export_by_annotation",
        "STRAIT_EXAMPLE_EXPORT_BY_ANNOTATION_WASM",
    ),
];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .ancestors()
        .nth(3)
        .expect("core/plugins/default-plugins lies three levels below the workspace root")
        .to_path_buf();
    for watched in [
        "plugins",
        "wit",
        "core/model/decisions/src",
        "core/model/decisions/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo:rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target_dir = plugin_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut cmd = Command::new(cargo);
    cmd.current_dir(&workspace)
        .arg("build")
        .arg("--quiet")
        .arg("--target")
        .arg(TARGET)
        .arg("--profile")
        .arg(PROFILE)
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _, _) in PLUGINS {
        cmd.arg("-p").arg(package);
    }
    // Flags meant for the host build must not leak into the Wasm build, and a
    // lint wrapper (clippy) has no business compiling plugins.
    for var in [
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    // Panic locations would otherwise carry this machine's paths into the
    // components (and the digests would differ from machine to machine).
    let cargo_home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")));
    let mut remaps = vec![format!(
        "--remap-path-prefix={}=/strait",
        workspace.display()
    )];
    if let Some(home) = cargo_home {
        remaps.push(format!("--remap-path-prefix={}=/cargo", home.display()));
    }
    cmd.env("CARGO_ENCODED_RUSTFLAGS", remaps.join("\x1f"));
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("could not run cargo to build the plugins: {e}"));
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("may not be installed")
            || stderr.contains("can't find crate for `core`")
        {
            "\nThe wasm32-wasip2 target is missing: run `rustup toolchain install` in the repository root \
             (rust-toolchain.toml lists the target)."
        } else {
            ""
        };
        panic!("building the plugins for {TARGET} failed:\n{stderr}{hint}");
    }

    for (package, stem, var) in PLUGINS {
        let artifact = target_dir
            .join(TARGET)
            .join(PROFILE)
            .join(format!("{stem}.wasm"));
        assert!(
            artifact.is_file(),
            "{package} built, but {} is missing",
            artifact.display()
        );
        println!("cargo:rustc-env={var}={}", artifact.display());
    }
}

/// `<target>/<profile>/build/<pkg>-<hash>/out` → `<target>/wasm-plugins`, so
/// debug, test, release and check builds share one plugin build.
fn plugin_target_dir(out_dir: &Path) -> PathBuf {
    match out_dir.ancestors().nth(4) {
        Some(target) if out_dir.ends_with("out") => target.join("wasm-plugins"),
        _ => out_dir.join("wasm-plugins"),
    }
}
