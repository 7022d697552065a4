use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::key_of;

#[test]
fn the_key_is_the_namespace_then_the_name() {
    let meta = ObjectMeta {
        namespace: Some("mc-demo".into()),
        name: Some("bb".into()),
        ..ObjectMeta::default()
    };
    assert_eq!(key_of(&meta), ("mc-demo".to_string(), "bb".to_string()));
}

#[test]
fn a_cluster_scoped_object_has_an_empty_namespace() {
    let meta = ObjectMeta {
        name: Some("mc-demo".into()),
        ..ObjectMeta::default()
    };
    assert_eq!(key_of(&meta), (String::new(), "mc-demo".to_string()));
}
