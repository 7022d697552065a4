use super::*;

#[test]
fn local_credentials_carry_no_secret() {
    let credentials = Credentials {
        cluster: "east".into(),
        server: "strait-local://east".into(),
        user: "east-mirror".into(),
        certificate_authority: None,
        token: None,
    };
    assert_eq!(
        credentials.to_kubeconfig().unwrap(),
        "apiVersion: v1\nkind: Config\nclusters:\n- name: east\n  cluster:\n    server: strait-local://east\n\
         contexts:\n- name: east\n  context:\n    cluster: east\n    user: east-mirror\n\
         current-context: east\nusers:\n- name: east-mirror\n  user: {}\n"
    );
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
