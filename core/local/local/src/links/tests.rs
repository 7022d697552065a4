use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::*;

fn secret(kubeconfig: &str, type_: &str) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some("cluster-credentials-target".into()),
            namespace: Some("linkerd".into()),
            ..ObjectMeta::default()
        },
        type_: Some(type_.into()),
        data: Some(BTreeMap::from([(
            KUBECONFIG_KEY.to_string(),
            ByteString(kubeconfig.as_bytes().to_vec()),
        )])),
        ..Secret::default()
    }
}

fn apis() -> BTreeMap<String, ClusterApi> {
    let api = |name: &str, port: u16| ClusterApi {
        name: name.into(),
        server: format!("https://127.0.0.1:{port}"),
        ca_pem: "PEM".into(),
        token: format!("token-{name}"),
    };
    BTreeMap::from([
        ("east".into(), api("east", 6443)),
        ("west".into(), api("west", 6444)),
    ])
}

const OLD_SCHEME: &str = "apiVersion: v1\nkind: Config\nclusters:\n- name: target\n  cluster:\n    server: strait-local://east\n";

#[test]
fn a_kubeconfig_names_a_local_cluster_by_scheme_or_extension() {
    assert_eq!(local_target(OLD_SCHEME).as_deref(), Some("east"));
    let generated = single_kubeconfig(&apis()["west"]).unwrap();
    assert_eq!(local_target(&generated).as_deref(), Some("west"));
    let real = "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n    server: https://prod.example:6443\n";
    assert_eq!(local_target(real), None);
    assert_eq!(local_target("not: [yaml"), None);
}

#[test]
fn credentials_naming_a_cluster_of_this_run_get_its_api_once() {
    let old = secret(OLD_SCHEME, REMOTE_KUBECONFIG_SECRET_TYPE);
    let next = refreshed(&old, &apis()).expect("an old-scheme Secret is rewritten");
    let text = String::from_utf8(next.data.unwrap()[KUBECONFIG_KEY].0.clone()).unwrap();
    assert!(text.contains("server: https://127.0.0.1:6443"), "{text}");
    assert!(text.contains("token: token-east"), "{text}");
    let again = secret(&text, REMOTE_KUBECONFIG_SECRET_TYPE);
    assert!(
        refreshed(&again, &apis()).is_none(),
        "an up-to-date Secret is left alone"
    );
    let other_type = secret(OLD_SCHEME, "Opaque");
    assert!(
        refreshed(&other_type, &apis()).is_none(),
        "only credentials Secrets"
    );
    let unknown = secret(
        &OLD_SCHEME.replace("east", "north"),
        REMOTE_KUBECONFIG_SECRET_TYPE,
    );
    assert!(
        refreshed(&unknown, &apis()).is_none(),
        "a cluster of another run is not ours"
    );
}
