use super::*;

fn request(authorization: Option<&str>) -> Request<()> {
    let mut builder = Request::get("/api");
    if let Some(value) = authorization {
        builder = builder.header(header::AUTHORIZATION, value);
    }
    builder.body(()).unwrap()
}

#[test]
fn only_the_runs_bearer_token_is_let_in() {
    assert!(authorized("s3cret", &request(Some("Bearer s3cret"))));
    assert!(!authorized("s3cret", &request(Some("Bearer s3cre"))));
    assert!(!authorized("s3cret", &request(Some("Bearer s3cretX"))));
    assert!(!authorized("s3cret", &request(Some("Basic s3cret"))));
    assert!(!authorized("s3cret", &request(Some("bearer s3cret"))));
    assert!(!authorized("s3cret", &request(None)));
    assert!(
        !authorized("", &request(Some("Bearer "))),
        "an empty token admits no one"
    );
}
