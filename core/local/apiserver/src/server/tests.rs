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

#[tokio::test]
async fn the_api_listens_on_loopback_only() {
    let config = ApiConfig {
        cluster: "east".into(),
        store: MemoryStore::new(),
        token: "t".into(),
        tls: Arc::new(ServingTls::generate("east").unwrap()),
        reachability: Reachability::new(),
        host: None,
    };
    match serve(([0, 0, 0, 0], 0).into(), config).await {
        Err(ServeError::NotLoopback { addr }) => assert_eq!(addr.ip().to_string(), "0.0.0.0"),
        Err(other) => panic!("expected NotLoopback, got {other}"),
        Ok(_) => panic!("an API on every address must be refused"),
    }
}
