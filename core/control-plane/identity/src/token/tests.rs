use super::*;

fn validate(tokens: &EmbeddedTokens, token: &[u8]) -> Result<ServiceAccountRef, TokenRejected> {
    poll_once(tokens.validate(token))
}

/// The embedded validator's future is always ready; poll it once.
fn poll_once<F: Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("the embedded validator never waits"),
    }
}

#[test]
fn registered_tokens_prove_their_account() {
    let tokens = EmbeddedTokens::new();
    let account = ServiceAccountRef::new("mc-demo", "slow-cooker");
    tokens.register(b"t1".to_vec(), account.clone());
    assert_eq!(validate(&tokens, b"t1"), Ok(account));
}

#[test]
fn unknown_empty_and_revoked_tokens_are_rejected() {
    let tokens = EmbeddedTokens::new();
    let err = validate(&tokens, b"nope").expect_err("unknown");
    assert!(err.to_string().contains("not registered"), "{err}");
    let err = validate(&tokens, b"").expect_err("empty");
    assert!(err.to_string().contains("empty"), "{err}");

    tokens.register("t1", ServiceAccountRef::new("ns", "sa"));
    let shared = tokens.clone();
    assert!(shared.revoke(b"t1"));
    assert!(!shared.revoke(b"t1"));
    assert!(validate(&tokens, b"t1").is_err());
}
