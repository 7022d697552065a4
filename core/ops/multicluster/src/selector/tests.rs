use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn flags_parse_into_selectors_that_match() {
    let selector = parse("mirror.linkerd.io/exported=remote-discovery").unwrap();
    assert_eq!(
        selector.match_labels.as_ref().unwrap()["mirror.linkerd.io/exported"],
        "remote-discovery"
    );
    assert!(selects(
        Some(&selector),
        &labels(&[("mirror.linkerd.io/exported", "remote-discovery")])
    ));
    assert!(!selects(
        Some(&selector),
        &labels(&[("mirror.linkerd.io/exported", "true")])
    ));

    let mixed = parse("a, !b, c!=d").unwrap();
    assert!(selects(Some(&mixed), &labels(&[("a", "1"), ("c", "e")])));
    assert!(!selects(Some(&mixed), &labels(&[("a", "1"), ("b", "x")])));
    assert!(!selects(Some(&mixed), &labels(&[("a", "1"), ("c", "d")])));

    assert!(!selects(Some(&parse("").unwrap()), &labels(&[("a", "1")])));
    assert!(!selects(None, &labels(&[("a", "1")])));
    assert!(parse("a in (b,c)").is_err());
}
