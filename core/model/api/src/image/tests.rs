use super::*;

fn dockerfile() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../deploy/Dockerfile");
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"))
}

/// The runtime stage: everything after the last `FROM`.
fn runtime_stage(dockerfile: &str) -> &str {
    let start = dockerfile.rfind("\nFROM ").unwrap_or(0);
    &dockerfile[start..]
}

#[test]
fn the_image_puts_both_programs_where_manifests_run_them() {
    let dockerfile = dockerfile();
    let runtime = runtime_stage(&dockerfile);
    let copy = runtime
        .lines()
        .find(|line| line.starts_with("COPY --from=build"))
        .unwrap_or_else(|| panic!("no COPY --from=build in the runtime stage:\n{runtime}"));
    let target = copy.split_whitespace().last().unwrap_or_default();
    for program in [STRAIT_BIN, PROXY_BIN] {
        let (dir, name) = program.rsplit_once('/').unwrap_or(("", program));
        assert_eq!(
            target.trim_end_matches('/'),
            dir,
            "{program}: the image copies into {target}"
        );
        assert!(
            copy.contains(&format!("/out/{name}")),
            "{program}: the image does not copy {name}: {copy}"
        );
    }
    assert!(
        runtime.contains(&format!("ENTRYPOINT [\"{STRAIT_BIN}\"]")),
        "the entrypoint is not {STRAIT_BIN}"
    );
}

#[test]
fn the_image_has_the_proxy_user_and_iptables_for_proxy_init() {
    let dockerfile = dockerfile();
    let runtime = runtime_stage(&dockerfile);
    assert!(
        runtime.contains(&format!("--uid {PROXY_UID} ")),
        "the image creates no user {PROXY_UID}"
    );
    assert!(
        runtime.contains(&format!("USER {PROXY_UID}")),
        "the image does not run as {PROXY_UID} by default"
    );
    assert!(
        runtime.contains(" iptables"),
        "the runtime stage installs no iptables"
    );
}

#[test]
fn the_default_image_is_tagged_with_this_version() {
    let image = default_image();
    assert_eq!(
        image,
        format!("{DEFAULT_REPOSITORY}:{}", env!("CARGO_PKG_VERSION"))
    );
    assert!(dockerfile().contains(&format!("-t {DEFAULT_REPOSITORY}:")));
}
