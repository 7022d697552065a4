use super::*;

#[test]
fn queries_decode_percent_escapes_and_plus() {
    let query = parse_query("kind=Service&namespace=mc%2Ddemo&x=a+b&bad=%zz&empty");
    assert_eq!(query["kind"], "Service");
    assert_eq!(query["namespace"], "mc-demo");
    assert_eq!(query["x"], "a b");
    assert_eq!(query["bad"], "%zz");
    assert_eq!(query["empty"], "");
}

#[test]
fn encoding_round_trips() {
    for text in ["mc-demo", "a b/c?d&e=f", "é"] {
        let encoded = percent_encode(text);
        assert!(
            encoded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
        );
        assert_eq!(parse_query(&format!("v={encoded}"))["v"], text);
    }
}

#[test]
fn an_unfinished_escape_at_the_end_is_kept() {
    assert_eq!(parse_query("v=50%")["v"], "50%");
    assert_eq!(parse_query("v=%4")["v"], "%4");
}
