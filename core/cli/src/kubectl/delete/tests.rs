use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn both_forms_name_objects() {
    let pair = |k: &str, n: &str| (k.to_string(), n.to_string());
    assert_eq!(
        parse_targets(&args(&["svc/bb"])).unwrap(),
        vec![pair("svc", "bb")]
    );
    assert_eq!(
        parse_targets(&args(&["deploy", "bb", "cc"])).unwrap(),
        vec![pair("deploy", "bb"), pair("deploy", "cc")]
    );
    assert!(parse_targets(&args(&["svc"])).is_err());
    assert!(parse_targets(&args(&["svc/bb", "cc"])).is_err());
}
