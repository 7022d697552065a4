use super::*;

const SLOW_COOKER: &str = "slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local";
const EVIL: &str = "slow-cooker-evil.mc-demo.serviceaccount.identity.linkerd.cluster.local";

#[test]
fn exact_identities_match_only_themselves() {
    let m = IdentityMatch::from_patterns([SLOW_COOKER]).unwrap();
    assert!(m.matches(SLOW_COOKER));
    assert!(!m.matches(EVIL));
    assert!(!m.matches(""));
}

#[test]
fn star_matches_any_identity() {
    let m = IdentityMatch::from_patterns(["*"]).unwrap();
    assert_eq!(m.suffixes, vec![String::new()]);
    assert!(m.matches(SLOW_COOKER));
    assert!(m.matches(EVIL));
    assert!(!m.matches(""), "no identity is not an identity");
}

#[test]
fn suffix_matches_on_a_label_boundary() {
    let m =
        IdentityMatch::from_patterns(["*.mc-demo.serviceaccount.identity.linkerd.cluster.local"])
            .unwrap();
    assert!(m.matches(SLOW_COOKER));
    assert!(m.matches(EVIL));
    assert!(!m.matches("bb.other.serviceaccount.identity.linkerd.cluster.local"));
    assert!(!m.matches("mc-demo.serviceaccount.identity.linkerd.cluster.local"));
    assert!(!m.matches("x.evilmc-demo.serviceaccount.identity.linkerd.cluster.local"));
}

#[test]
fn malformed_patterns_are_refused_with_the_pattern_named() {
    for bad in ["", "*.", "a*", "*.*.local", "**"] {
        let err = IdentityMatch::from_patterns([bad]).unwrap_err();
        assert_eq!(err.pattern, bad);
        assert!(!err.to_string().is_empty());
    }
    let err = IdentityMatch::from_patterns(Vec::<String>::new()).unwrap_err();
    assert!(err.to_string().contains("no identities"), "{err}");
}

#[test]
fn identities_are_dns_names_and_anything_else_is_named_as_such() {
    assert_eq!(identity_name_problem(SLOW_COOKER), None);
    assert_eq!(identity_name_problem("a.b-c.d0"), None);
    let long_label = format!("{}.local", "a".repeat(64));
    let long_name = format!("{}.local", "a.".repeat(125));
    for (bad, why) in [
        ("", "empty"),
        ("a..b", "empty label"),
        (".a", "empty label"),
        ("a.", "empty label"),
        ("Slow-Cooker.mc-demo", "a-z"),
        ("slow cooker", "a-z"),
        ("a,b", "a-z"),
        ("a/b", "a-z"),
        ("a\u{e9}", "a-z"),
        ("-a.b", "'-'"),
        ("a-.b", "'-'"),
        (long_label.as_str(), "63"),
        (long_name.as_str(), "253"),
    ] {
        let problem = identity_name_problem(bad);
        assert!(
            problem.is_some_and(|p| p.contains(why)),
            "{bad:?}: {problem:?}"
        );
    }
}
