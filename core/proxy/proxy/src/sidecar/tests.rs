use super::{proxy_cores, variables_help};
use crate::ConfigError;

#[test]
fn cores_default_to_one_and_must_be_positive() {
    assert_eq!(proxy_cores(None), Ok(1));
    assert_eq!(proxy_cores(Some("2")), Ok(2));
    assert_eq!(
        proxy_cores(Some("0")),
        Err(ConfigError {
            variable: "LINKERD2_PROXY_CORES",
            reason: r#""0" is not a positive number of cores"#.into(),
        })
    );
    assert!(proxy_cores(Some("many")).is_err());
}

#[test]
fn help_lists_every_variable_including_cores() {
    let help = variables_help();
    for (name, _) in crate::VARIABLES {
        assert!(help.contains(name), "{name} missing from\n{help}");
    }
    assert!(help.contains("LINKERD2_PROXY_CORES"));
}
