use super::*;

#[test]
fn modes_parse_by_name_and_pick_their_programs() {
    assert_eq!(IptablesMode::parse("legacy"), Ok(IptablesMode::Legacy));
    assert_eq!(IptablesMode::parse(" nft "), Ok(IptablesMode::Nft));
    let err = IptablesMode::parse("xt").unwrap_err();
    assert_eq!(err, UnknownIptablesMode("xt".into()));
    assert_eq!(
        err.to_string(),
        "--iptables-mode: \"xt\" is neither \"legacy\" nor \"nft\""
    );
    assert_eq!(
        IptablesMode::Legacy.restore_program(),
        "iptables-legacy-restore"
    );
    assert_eq!(IptablesMode::Nft.save_program(), "iptables-nft-save");
    assert_eq!(IptablesMode::Default.restore_program(), "iptables-restore");
}

#[test]
fn a_namespace_that_does_not_exist_is_a_clear_failure() {
    let runner = Runner {
        mode: IptablesMode::Default,
        netns: Some("/nonexistent/strait-proxy-init-test".into()),
    };
    match runner.saved_nat() {
        // Where nsenter is missing, that is what the error names.
        Err(RunError::Missing { program }) => assert!(!program.is_empty()),
        Err(RunError::Refused {
            program, stderr, ..
        }) => {
            assert_eq!(program, "iptables-save");
            assert!(!stderr.is_empty());
        }
        other => panic!("expected a failure, got {other:?}"),
    }
}
