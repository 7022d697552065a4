//! `strait plugin new` and `strait plugin build` as a plugin author runs
//! them: a new crate of each kind, outside this repository, built with the
//! author's cargo and validated.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn strait(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .current_dir(dir)
        .args(args)
        // The build of a plugin is the author's own: nothing of the build
        // running these tests may leak into it.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        // Both kinds share one target directory under this workspace's,
        // so wit-bindgen is compiled for wasm once for the two builds and
        // once across runs.
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-scaffolds"),
        )
        .output()
        .expect("strait runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fresh directory outside the repository, so an enclosing workspace
/// cannot be what makes the crate build.
fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strait-plugin-new-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn assert_ok(output: &Output, what: &str) -> String {
    assert!(
        output.status.success(),
        "{what} failed ({}):\n{}\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// The slow one: compiles wit-bindgen and both scaffolds for wasm32-wasip2
/// (about half a minute the first time, a few seconds after), one kind
/// after the other in one shared target directory.
#[test]
fn scaffolds_of_both_kinds_build_into_valid_plugins_that_pass_their_cases() {
    let root = temp_dir("build");
    for kind in ["authz", "export"] {
        let name = format!("my-{kind}-plugin");
        let out = assert_ok(
            &strait(&root, &["plugin", "new", "--kind", kind, &name]),
            "plugin new",
        );
        assert!(
            out.contains(&format!("created {kind} plugin {name}")),
            "{out}"
        );
        let dir = root.join(&name);
        for file in [
            "Cargo.toml",
            "rust-toolchain.toml",
            "src/lib.rs",
            "cases.yaml",
            ".gitignore",
            "README.md",
            "wit/authz/authz.wit",
            "wit/export/export.wit",
            "vendor/strait-plugin-sdk/Cargo.toml",
            "vendor/strait-plugin-sdk/src/lib.rs",
        ] {
            assert!(dir.join(file).is_file(), "{name}: no {file}");
        }
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(lib.lines().count() <= 30, "a short template:\n{lib}");

        let built = strait(&dir, &["plugin", "build"]);
        let stdout = assert_ok(&built, "plugin build");
        // stdout is the component's path and nothing else.
        let path = PathBuf::from(stdout.trim_end());
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(path.is_file(), "{stdout}");
        let stem = name.replace('-', "_");
        assert!(
            path.ends_with(format!("wasm32-wasip2/release/{stem}.wasm")),
            "{}",
            path.display()
        );
        assert!(
            path.starts_with(Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-scaffolds")),
            "CARGO_TARGET_DIR is respected: {}",
            path.display()
        );
        // The kind was told from the world the component implements.
        assert!(
            text(&built.stderr).contains(&format!("ok {kind} plugin")),
            "{}",
            text(&built.stderr)
        );

        let checked = assert_ok(
            &strait(
                &dir,
                &["plugin", "check", "--kind", kind, &path.to_string_lossy()],
            ),
            "plugin check",
        );
        assert!(checked.starts_with(&format!("ok {kind} ")), "{checked}");
        let other = if kind == "authz" { "export" } else { "authz" };
        let wrong = strait(&dir, &["plugin", "build", "--kind", other]);
        assert_eq!(wrong.status.code(), Some(1), "built as the wrong kind");
        assert!(wrong.stdout.is_empty());
        assert!(
            text(&wrong.stderr).contains(&format!("is not an {other} plugin")),
            "{}",
            text(&wrong.stderr)
        );

        let tested = strait(
            &dir,
            &[
                "plugin",
                "test",
                &path.to_string_lossy(),
                "--cases",
                "cases.yaml",
            ],
        );
        let out = assert_ok(&tested, "plugin test on the scaffold's own cases");
        assert!(out.contains(" passed, 0 failed"), "{out}");
        assert!(!out.contains("FAIL"), "{out}");
        let passed = out.lines().filter(|l| l.starts_with("PASS ")).count();
        assert!(passed >= 3, "the scaffold comes with cases: {out}");
    }

    // A change that does not compile: cargo's error reaches the author,
    // nothing is printed on stdout, and the exit code is 1.
    let dir = root.join("my-authz-plugin");
    std::fs::write(dir.join("src/lib.rs"), "fn broken( {}\n").unwrap();
    let failed = strait(&dir, &["plugin", "build"]);
    assert_eq!(failed.status.code(), Some(1));
    assert!(failed.stdout.is_empty(), "{}", text(&failed.stdout));
    let err = text(&failed.stderr);
    assert!(err.contains("error"), "{err}");
    assert!(
        err.contains("src/lib.rs"),
        "cargo's diagnostic passes through: {err}"
    );
    assert!(err.contains("cargo build failed"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_existing_directory_with_files_is_never_overwritten() {
    let root = temp_dir("refuse");
    let dir = root.join("taken");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let out = strait(&root, &["plugin", "new", "--kind", "authz", "taken"]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("already exists and is not empty"), "{err}");
    assert!(err.contains("taken"), "{err}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "nothing written"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("notes.txt")).unwrap(),
        "mine"
    );

    // --path names the directory; an empty one is used.
    let empty = root.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = strait(
        &root,
        &[
            "plugin", "new", "--kind", "export", "exporter", "--path", "empty",
        ],
    );
    assert_ok(&out, "plugin new into an empty directory");
    let manifest = std::fs::read_to_string(empty.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"exporter\""), "{manifest}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_name_that_is_not_a_crate_name_is_refused_by_name() {
    let root = temp_dir("names");
    for bad in ["9lives", "my plugin", "fn"] {
        let out = strait(&root, &["plugin", "new", "--kind", "authz", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("{bad:?} is not a valid crate name")),
            "{err}"
        );
        assert!(!root.join(bad).exists(), "{bad}: nothing written");
    }
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn build_outside_a_crate_says_so() {
    let root = temp_dir("nocrate");
    let out = strait(&root, &["plugin", "build"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("has no Cargo.toml"), "{err}");
    assert!(err.contains("strait plugin new"), "{err}");
    let _ = std::fs::remove_dir_all(&root);
}
