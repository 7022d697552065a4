use serde_json::json;

use super::*;

#[test]
fn template_hashes_are_stable_and_change_with_the_template() {
    let a = json!({"metadata": {"labels": {"app": "bb"}}});
    let b = json!({"metadata": {"labels": {"app": "bb2"}}});
    assert_eq!(template_hash(&a), template_hash(&a.clone()));
    assert_ne!(template_hash(&a), template_hash(&b));
    assert!(
        template_hash(&a)
            .chars()
            .all(|c| ALPHANUMS.contains(&(c as u8)))
    );
}

#[test]
fn random_suffixes_are_lowercase_alphanumeric_and_differ() {
    let a = random_suffix(5);
    let b = random_suffix(5);
    assert_eq!(a.len(), 5);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    assert_ne!(a, b);
}
