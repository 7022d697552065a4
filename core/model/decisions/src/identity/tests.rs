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
