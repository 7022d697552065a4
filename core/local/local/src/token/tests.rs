use super::*;

#[test]
fn tokens_are_fresh_hex_and_hidden_from_logs() {
    let a = ApiToken::generate().unwrap();
    let b = ApiToken::generate().unwrap();
    assert_eq!(a.secret().len(), TOKEN_BYTES * 2);
    assert!(a.secret().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a.secret(), b.secret());
    assert_eq!(format!("{a:?}"), "ApiToken(..)");
}
