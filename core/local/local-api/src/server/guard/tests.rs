use http::Request;

use super::*;

fn guard(port: u16) -> (Guard, ApiToken) {
    let token = ApiToken::generate().unwrap();
    (Guard::new(token.clone(), port), token)
}

fn parts(request: http::request::Builder) -> Parts {
    request.body(()).unwrap().into_parts().0
}

#[test]
fn own_hosts_are_the_loopback_names_with_the_bound_port() {
    let (guard, _) = guard(4040);
    for host in [
        "127.0.0.1:4040",
        "localhost:4040",
        "LOCALHOST:4040",
        "[::1]:4040",
    ] {
        assert!(guard.is_own(host), "{host}");
    }
    for host in [
        "127.0.0.1:4041",
        "127.0.0.1",
        "localhost",
        "evil.example:4040",
        "localhost.evil.example:4040",
        "evil.localhost:4040",
        "127.0.0.2:4040",
        "[::1]",
        "[::1:4040",
        "::1:4040",
        "localhost:+4040",
        "localhost:04040x",
        "localhost:",
        "",
    ] {
        assert!(!guard.is_own(host), "{host}");
    }
    let (on_80, _) = self::guard(80);
    assert!(on_80.is_own("localhost"));
    assert!(on_80.is_own("[::1]"));
    assert!(!on_80.is_own("evil.example"));
}

#[test]
fn an_absolute_request_target_must_name_this_api_too() {
    let (guard, token) = guard(4040);
    let bearer = format!("Bearer {}", token.secret());
    let request = Request::get("http://evil.example:4040/v1/clusters")
        .header(header::HOST, "127.0.0.1:4040")
        .header(header::AUTHORIZATION, &bearer);
    let err = guard.admit(&parts(request)).unwrap_err();
    assert_eq!(err.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(err.message.contains("evil.example:4040"), "{}", err.message);
    let request = Request::get("http://localhost:4040/v1/clusters")
        .header(header::HOST, "localhost:4040")
        .header(header::AUTHORIZATION, &bearer);
    assert_eq!(guard.admit(&parts(request)).unwrap(), None);
}

#[test]
fn the_scheme_is_case_blind_and_the_token_exact() {
    let (guard, token) = guard(4040);
    let admit = |authorization: String| {
        let request = Request::get("/v1/clusters")
            .header(header::HOST, "127.0.0.1:4040")
            .header(header::AUTHORIZATION, authorization);
        guard.admit(&parts(request)).map_err(|e| e.status)
    };
    assert_eq!(admit(format!("bearer {}", token.secret())), Ok(None));
    assert_eq!(admit(format!("BEARER  {} ", token.secret())), Ok(None));
    assert_eq!(
        admit(format!("Bearer {}", token.secret().to_uppercase())),
        Err(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        admit(format!("Bearer{}", token.secret())),
        Err(StatusCode::UNAUTHORIZED)
    );
}

#[test]
fn a_body_needs_a_type_the_api_speaks_even_on_a_read() {
    let (guard, token) = guard(4040);
    let bearer = format!("Bearer {}", token.secret());
    let request = |method: Method| {
        Request::builder()
            .method(method)
            .uri("/v1/clusters")
            .header(header::HOST, "127.0.0.1:4040")
            .header(header::AUTHORIZATION, &bearer)
    };
    let with_body = request(Method::GET).header(header::CONTENT_LENGTH, "5");
    let err = guard.admit(&parts(with_body)).unwrap_err();
    assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let chunked = request(Method::GET)
        .header(header::TRANSFER_ENCODING, "chunked")
        .header(header::CONTENT_TYPE, "text/plain");
    let err = guard.admit(&parts(chunked)).unwrap_err();
    assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(err.message.contains("\"text/plain\""), "{}", err.message);
    let empty_post = request(Method::POST).header(header::CONTENT_LENGTH, "0");
    let err = guard.admit(&parts(empty_post)).unwrap_err();
    assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let two_types = request(Method::POST)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_TYPE, "text/plain");
    let err = guard.admit(&parts(two_types)).unwrap_err();
    assert!(err.message.contains("several"), "{}", err.message);
    let json = request(Method::POST).header(header::CONTENT_TYPE, " application/JSON ;x=y");
    assert_eq!(guard.admit(&parts(json)).unwrap(), Some(Media::Json));
}

#[test]
fn a_refusal_names_the_first_check_that_failed() {
    let (guard, _) = guard(4040);
    let request = Request::post("/v1/clusters/east/apply")
        .header(header::HOST, "evil.example:4040")
        .header(header::CONTENT_TYPE, "text/plain");
    let err = guard.admit(&parts(request)).unwrap_err();
    assert_eq!(err.status, StatusCode::MISDIRECTED_REQUEST);
    let request = Request::post("/v1/clusters/east/apply")
        .header(header::HOST, "127.0.0.1:4040")
        .header(header::CONTENT_TYPE, "text/plain");
    let err = guard.admit(&parts(request)).unwrap_err();
    assert_eq!(err.status, StatusCode::UNAUTHORIZED);
}

#[test]
fn json_only_endpoints_refuse_yaml() {
    assert!(json_only("POST /x", Some(Media::Json)).is_ok());
    let err = json_only("POST /x", Some(Media::Yaml)).unwrap_err();
    assert_eq!(err.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(err.message, "POST /x takes application/json only");
}
