use super::proxy_cores;

#[test]
fn cores_default_to_one_and_must_be_positive() {
    assert_eq!(proxy_cores(None), Ok(1));
    assert_eq!(proxy_cores(Some("2")), Ok(2));
    assert!(
        proxy_cores(Some("0"))
            .unwrap_err()
            .contains("LINKERD2_PROXY_CORES")
    );
    assert!(proxy_cores(Some("many")).is_err());
}
