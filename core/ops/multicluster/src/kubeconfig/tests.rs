use super::*;

#[test]
fn local_credentials_carry_the_extension_on_the_cluster() {
    let credentials = Credentials {
        cluster: "east".into(),
        server: "https://127.0.0.1:4443".into(),
        user: "east".into(),
        certificate_authority: Some(b"PEM".to_vec()),
        token: Some("t0k".into()),
        local_cluster: Some("east".into()),
    };
    assert_eq!(
        credentials.to_kubeconfig().unwrap(),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    certificate-authority-data: UEVN\n    server: https://127.0.0.1:4443\n\
         \x20   extensions:\n    - name: strait.io/local\n      extension:\n        cluster: east\n\
         contexts:\n- name: east\n  context:\n    cluster: east\n    user: east\n\
         current-context: east\nusers:\n- name: east\n  user:\n    token: t0k\n"
    );
}

/// A kubeconfig file in a fresh directory of the test's.
fn file(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const LOCAL: &str = "apiVersion: v1\nkind: Config\n\
    clusters:\n- name: east\n  cluster:\n    server: https://127.0.0.1:4443\n    certificate-authority-data: UEVN\n\
    \x20   extensions:\n    - name: strait.io/local\n      extension: {cluster: east}\n\
    - name: west\n  cluster: {server: 'https://127.0.0.1:5443'}\n\
    users:\n- name: east\n  user: {token: t0k}\n\
    contexts:\n- name: east\n  context: {cluster: east, user: east}\n\
    - name: west\n  context: {cluster: west, user: east}\n\
    current-context: east\n";

#[test]
fn the_first_file_wins_and_the_local_one_comes_last() {
    let dir = std::env::temp_dir().join(format!("strait-kubeconfig-merge-{}", std::process::id()));
    let user = file(
        &dir,
        "user",
        "apiVersion: v1\nkind: Config\nclusters:\n- name: west\n  cluster: {server: 'https://k8s:6443'}\n\
         contexts:\n- name: west\n  context: {cluster: west, user: me}\ncurrent-context: ''\n",
    );
    let local = file(&dir, "kubeconfig", LOCAL);
    let missing = dir.join("missing");
    let merged = UserKubeconfig::read(vec![user.clone(), missing, local.clone()]);
    // The user's west shadows the local one; no current context of the
    // user's (an empty one sets none), so the local file's.
    assert_eq!(
        merged.server_of("west").as_deref(),
        Some("https://k8s:6443")
    );
    assert_eq!(merged.local_cluster("west"), None);
    assert_eq!(merged.current_context().as_deref(), Some("east"));
    assert_eq!(merged.resolve(None).unwrap(), "east");
    assert_eq!(merged.local_cluster("east").as_deref(), Some("east"));
    let err = merged.resolve(Some("north")).unwrap_err().to_string();
    assert!(
        err.starts_with("context \"north\" is not in the kubeconfig (searched "),
        "{err}"
    );
    assert!(err.contains(&local.display().to_string()), "{err}");

    let credentials = merged.credentials("east").unwrap();
    assert_eq!(credentials.server, "https://127.0.0.1:4443");
    assert_eq!(
        credentials.certificate_authority.as_deref(),
        Some(&b"PEM"[..])
    );
    assert_eq!(credentials.token.as_deref(), Some("t0k"));
    assert_eq!(credentials.local_cluster.as_deref(), Some("east"));
    // What link-gen writes names the same cluster when read back.
    let written = parse(&credentials.to_kubeconfig().unwrap()).unwrap();
    assert_eq!(local_cluster_in(&written, "east").as_deref(), Some("east"));

    let none = UserKubeconfig::read(vec![user]);
    assert!(
        none.resolve(None)
            .unwrap_err()
            .to_string()
            .starts_with("no current context")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_current_server_is_found_or_what_is_missing_is_said() {
    let text = "clusters:\n- name: c1\n  cluster: {server: 'https://a:6443'}\n\
        contexts:\n- name: east\n  context: {cluster: c1, user: u}\ncurrent-context: east\n";
    assert_eq!(
        current_server(text).unwrap(),
        ("east".to_string(), "https://a:6443".to_string())
    );
    assert_eq!(
        current_server(&text.replace("current-context: east\n", ""))
            .unwrap_err()
            .to_string(),
        "the kubeconfig has no current-context"
    );
    assert_eq!(
        current_server(&text.replace("cluster: c1,", "cluster: c2,"))
            .unwrap_err()
            .to_string(),
        "the kubeconfig names cluster \"c2\" for context \"east\", but has no server for it"
    );
    assert_eq!(
        current_server(&text.replace("current-context: east", "current-context: west"))
            .unwrap_err()
            .to_string(),
        "the kubeconfig has no context \"west\""
    );
    assert!(
        current_server("clusters: [")
            .unwrap_err()
            .to_string()
            .starts_with("the kubeconfig is not YAML")
    );
}
