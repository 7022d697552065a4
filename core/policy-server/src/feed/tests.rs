use strait_policy::Ignored;

use super::newly_ignored;

fn ignored(name: &str, reason: &str) -> Ignored {
    Ignored {
        kind: "MeshTLSAuthentication",
        namespace: "mc-demo".into(),
        name: name.into(),
        reason: reason.into(),
    }
}

#[test]
fn only_resources_not_reported_before_are_new() {
    let nobody = ignored("nobody", "no identities");
    let other = ignored("other", "no identities");
    assert_eq!(
        newly_ignored(&[], std::slice::from_ref(&nobody)),
        vec![&nobody]
    );
    let current = vec![nobody.clone(), other.clone()];
    assert_eq!(
        newly_ignored(std::slice::from_ref(&nobody), &current),
        vec![&other]
    );
    assert!(newly_ignored(&current, &current).is_empty());
}

#[test]
fn a_new_reason_for_the_same_resource_is_reported_again() {
    let before = ignored("nobody", "no identities");
    let after = ignored("nobody", "an identity is malformed");
    assert_eq!(
        newly_ignored(&[before], std::slice::from_ref(&after)),
        vec![&after]
    );
}

#[test]
fn a_resource_fixed_and_broken_again_is_reported_again() {
    let nobody = ignored("nobody", "no identities");
    // Fixed: the current set is empty, which becomes the reported set.
    assert!(newly_ignored(std::slice::from_ref(&nobody), &[]).is_empty());
    assert_eq!(
        newly_ignored(&[], std::slice::from_ref(&nobody)),
        vec![&nobody]
    );
}
