use super::*;

fn api(name: &str, port: u16) -> ClusterApi {
    ClusterApi {
        name: name.into(),
        server: format!("https://127.0.0.1:{port}"),
        ca_pem: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".into(),
        token: format!("token-{name}"),
    }
}

#[test]
fn the_kubeconfig_has_a_context_per_cluster_named_after_it() {
    let config = kubeconfig(&[api("east", 1), api("west", 2)]);
    assert_eq!(config["current-context"], "east");
    let names = |list: &str| -> Vec<String> {
        config[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("contexts"), ["east", "west"]);
    assert_eq!(names("clusters"), ["east", "west"]);
    assert_eq!(
        config["clusters"][1]["cluster"]["server"],
        "https://127.0.0.1:2"
    );
    assert_eq!(config["users"][0]["user"]["token"], "token-east");
    let ca = config["clusters"][0]["cluster"]["certificate-authority-data"]
        .as_str()
        .unwrap();
    let decoded: k8s_openapi::ByteString =
        serde_json::from_value(Value::String(ca.into())).unwrap();
    assert_eq!(decoded.0, api("east", 1).ca_pem.as_bytes());
}

#[test]
fn merging_keeps_the_users_own_context_and_replaces_strait_s_earlier_one() {
    let dir = std::env::temp_dir().join(format!("strait-kubeconfig-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config");
    std::fs::write(
        &path,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\nclusters:\n- name: west\n  cluster: {server: https://prod.example:6443}\ncontexts:\n- name: west\n  context: {cluster: west, user: admin}\n- name: prod\n  context: {cluster: west, user: admin}\nusers:\n- name: admin\n  user: {token: mine}\n",
    )
    .unwrap();
    let first = merge_into(&path, &[api("east", 1), api("west", 2)]).unwrap();
    assert_eq!(first.written, ["east"]);
    assert_eq!(first.kept, ["west"]);
    let second = merge_into(&path, &[api("east", 3)]).unwrap();
    assert_eq!(
        second.written,
        ["east"],
        "an earlier run's context is strait's to replace"
    );
    let config: Value = serde_norway::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(config["current-context"], "prod");
    let cluster = |name: &str| {
        config["clusters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap()["cluster"]["server"]
            .clone()
    };
    assert_eq!(cluster("west"), "https://prod.example:6443");
    assert_eq!(cluster("east"), "https://127.0.0.1:3");
    assert_eq!(config["clusters"].as_array().unwrap().len(), 2);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&path).unwrap().permissions());
    assert_eq!(mode & 0o077, 0, "the file holds tokens");
    std::fs::remove_dir_all(&dir).unwrap();
}
