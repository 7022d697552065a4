//! Token reviews against a scripted API server: what is sent, and how each
//! of the API server's verdicts is read.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    LINKERD_IDENTITY_AUDIENCE, LabelError, ReviewedAccount, TokenReviewError, TokenReviewer,
};
use crate::tests::api_server::{ApiServer, mock_cluster};

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2ln";
const REVIEWS_PATH: &str = "/apis/authentication.k8s.io/v1/tokenreviews";

/// A reviewer for Linkerd's audience, and the API server it asks.
fn reviewer() -> (TokenReviewer, ApiServer) {
    let (store, server) = mock_cluster();
    (TokenReviewer::from_store(&store), server)
}

/// The review as the API server returns it, with `status`.
fn reviewed(status: Value) -> Value {
    json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenReview",
        "metadata": {"creationTimestamp": null},
        "spec": {"token": TOKEN, "audiences": [LINKERD_IDENTITY_AUDIENCE]},
        "status": status,
    })
}

/// The status of an authenticated token of `username` for `audiences`.
fn authenticated(username: &str, audiences: &[&str]) -> Value {
    json!({
        "authenticated": true,
        "user": {
            "username": username,
            "uid": "4d5f3c1e-0000-4000-8000-000000000001",
            "groups": ["system:serviceaccounts", "system:authenticated"],
        },
        "audiences": audiences,
    })
}

/// Reviews `token`, the API server answering with `code` and `body`.
async fn review_answered(
    reviewer: &TokenReviewer,
    server: &mut ApiServer,
    token: &str,
    code: u16,
    body: Value,
) -> Result<ReviewedAccount, TokenReviewError> {
    let (result, ()) = tokio::join!(reviewer.review(token.as_bytes()), async {
        let request = server.next().await;
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.path, REVIEWS_PATH);
        request.respond(code, &body);
    });
    result
}

/// Reviews [`TOKEN`] with a fresh reviewer for Linkerd's audience.
async fn review_with(code: u16, body: Value) -> Result<ReviewedAccount, TokenReviewError> {
    let (reviewer, mut server) = reviewer();
    review_answered(&reviewer, &mut server, TOKEN, code, body).await
}

/// A Status failure body as the API server words it.
fn failure(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
}

#[tokio::test]
async fn linkerd_audience_is_the_default() {
    assert_eq!(LINKERD_IDENTITY_AUDIENCE, "identity.l5d.io");
    let (reviewer, _server) = reviewer();
    assert_eq!(reviewer.audiences(), [LINKERD_IDENTITY_AUDIENCE]);
}

#[tokio::test]
async fn an_authenticated_service_account_token_proves_the_account() {
    let (reviewer, mut server) = reviewer();
    let (result, ()) = tokio::join!(reviewer.review(TOKEN.as_bytes()), async {
        let request = server.next().await;
        assert_eq!(request.method, http::Method::POST);
        assert_eq!(request.path, REVIEWS_PATH);
        assert_eq!(request.content_type, "application/json");
        let body = &request.body;
        assert_eq!(body["apiVersion"], "authentication.k8s.io/v1");
        assert_eq!(body["kind"], "TokenReview");
        assert_eq!(body["spec"]["token"], TOKEN, "the token is reviewed");
        assert_eq!(
            body["spec"]["audiences"],
            json!([LINKERD_IDENTITY_AUDIENCE]),
            "the audience is asked for"
        );
        request.respond(
            201,
            &reviewed(authenticated(
                "system:serviceaccount:emojivoto:web",
                &[LINKERD_IDENTITY_AUDIENCE],
            )),
        );
    });
    assert_eq!(
        result,
        Ok(ReviewedAccount {
            namespace: "emojivoto".into(),
            name: "web".into(),
        })
    );
}

#[tokio::test]
async fn other_audiences_are_asked_for_and_any_one_confirmed_is_enough() {
    let (store, mut server) = mock_cluster();
    let reviewer = TokenReviewer::new(store.client().clone())
        .with_audiences(["strait.example", LINKERD_IDENTITY_AUDIENCE]);
    let (result, ()) = tokio::join!(reviewer.review(TOKEN.as_bytes()), async {
        let request = server.next().await;
        assert_eq!(
            request.body["spec"]["audiences"],
            json!(["strait.example", LINKERD_IDENTITY_AUDIENCE])
        );
        request.respond(
            201,
            &reviewed(authenticated(
                "system:serviceaccount:ns-1:sa-2",
                &[LINKERD_IDENTITY_AUDIENCE],
            )),
        );
    });
    assert_eq!(
        result,
        Ok(ReviewedAccount {
            namespace: "ns-1".into(),
            name: "sa-2".into(),
        })
    );
}

#[tokio::test]
async fn without_audiences_none_is_asked_for_or_checked() {
    let (store, mut server) = mock_cluster();
    let reviewer = TokenReviewer::from_store(&store).with_audiences(Vec::<String>::new());
    let (result, ()) = tokio::join!(reviewer.review(TOKEN.as_bytes()), async {
        let request = server.next().await;
        assert_eq!(
            request.body["spec"].get("audiences"),
            None,
            "the API server's own audience applies"
        );
        request.respond(
            201,
            &reviewed(authenticated("system:serviceaccount:default:default", &[])),
        );
    });
    assert_eq!(
        result,
        Ok(ReviewedAccount {
            namespace: "default".into(),
            name: "default".into(),
        })
    );
}

#[tokio::test]
async fn an_unauthenticated_token_is_rejected_with_the_api_servers_reason() {
    let reason = "[invalid bearer token, service account token has expired]";
    let result = review_with(
        201,
        reviewed(json!({"authenticated": false, "user": {}, "error": reason})),
    )
    .await;
    assert_eq!(
        result,
        Err(TokenReviewError::Rejected {
            reason: reason.into()
        })
    );
    let message = result.unwrap_err().to_string();
    assert!(message.contains("rejected the token"), "{message}");
    assert!(
        message.contains("service account token has expired"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unauthenticated_token_without_a_reason_is_rejected() {
    let result = review_with(201, reviewed(json!({"user": {}}))).await;
    assert!(
        matches!(&result, Err(TokenReviewError::Rejected { reason }) if reason.contains("not authenticated")),
        "{result:?}"
    );
}

#[tokio::test]
async fn an_error_rejects_the_token_even_when_authenticated() {
    let mut status = authenticated(
        "system:serviceaccount:emojivoto:web",
        &[LINKERD_IDENTITY_AUDIENCE],
    );
    status["error"] = json!("token lookup failed");
    let result = review_with(201, reviewed(status)).await;
    assert_eq!(
        result,
        Err(TokenReviewError::Rejected {
            reason: "token lookup failed".into()
        })
    );
}

#[tokio::test]
async fn a_review_without_status_is_rejected() {
    let mut body = reviewed(Value::Null);
    if let Some(review) = body.as_object_mut() {
        review.remove("status");
    }
    let result = review_with(201, body).await;
    assert!(
        matches!(&result, Err(TokenReviewError::Rejected { reason }) if reason.contains("without a status")),
        "{result:?}"
    );
}

#[tokio::test]
async fn user_and_node_tokens_are_not_service_accounts() {
    for username in [
        "system:node:foo",
        "alice",
        "",
        "system:serviceaccount:emojivoto",
        "system:serviceaccounts:emojivoto:web",
    ] {
        let result = review_with(
            201,
            reviewed(authenticated(username, &[LINKERD_IDENTITY_AUDIENCE])),
        )
        .await;
        assert_eq!(
            result,
            Err(TokenReviewError::NotServiceAccount {
                username: username.into()
            }),
            "{username:?}"
        );
        let message = result.unwrap_err().to_string();
        assert!(
            message.contains(&format!("{username:?}")),
            "names the user: {message}"
        );
        assert!(message.contains("not a service account"), "{message}");
    }
}

#[tokio::test]
async fn service_accounts_need_dns_label_namespaces_and_names() {
    for (username, fault) in [
        ("system:serviceaccount::web", "namespace is empty"),
        ("system:serviceaccount:emojivoto:", "name is empty"),
        ("system:serviceaccount:emojivoto:a:b", "contains ':'"),
        ("system:serviceaccount:Emojivoto:web", "contains 'E'"),
        ("system:serviceaccount:emojivoto:web.v2", "contains '.'"),
        ("system:serviceaccount:-ns:web", "starts or ends with '-'"),
    ] {
        let result = review_with(
            201,
            reviewed(authenticated(username, &[LINKERD_IDENTITY_AUDIENCE])),
        )
        .await;
        match result {
            Err(error @ TokenReviewError::InvalidAccountName { .. }) => {
                let message = error.to_string();
                assert!(
                    message.starts_with(&format!(
                        "the token's service account {username:?} cannot be used: the "
                    )),
                    "{message}"
                );
                assert!(message.contains(fault), "{username}: {message}");
            }
            other => panic!("{username}: {other:?}"),
        }
    }
    let long = format!("system:serviceaccount:ns:{}", "a".repeat(64));
    let result = review_with(
        201,
        reviewed(authenticated(&long, &[LINKERD_IDENTITY_AUDIENCE])),
    )
    .await;
    assert_eq!(
        result,
        Err(TokenReviewError::InvalidAccountName {
            username: long,
            part: "name",
            reason: LabelError::TooLong
        })
    );
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    for (audiences, accepted) in [
        (vec![], "none"),
        (
            vec!["https://kubernetes.default.svc.cluster.local"],
            "https://kubernetes.default.svc.cluster.local",
        ),
    ] {
        let result = review_with(
            201,
            reviewed(authenticated(
                "system:serviceaccount:emojivoto:web",
                &audiences,
            )),
        )
        .await;
        assert_eq!(
            result,
            Err(TokenReviewError::WrongAudience {
                expected: LINKERD_IDENTITY_AUDIENCE.into(),
                accepted: accepted.into(),
            })
        );
        let message = result.unwrap_err().to_string();
        assert!(message.contains("identity.l5d.io"), "{message}");
    }

    let mut status = authenticated("system:serviceaccount:emojivoto:web", &[]);
    if let Some(status) = status.as_object_mut() {
        status.remove("audiences");
    }
    let result = review_with(201, reviewed(status)).await;
    assert!(
        matches!(result, Err(TokenReviewError::WrongAudience { .. })),
        "an API server that reports no audiences is not trusted to have checked them: {result:?}"
    );
}

#[tokio::test]
async fn a_forbidden_review_is_an_api_failure_that_says_what_to_grant() {
    let message = "tokenreviews.authentication.k8s.io is forbidden: User \
                   \"system:serviceaccount:strait:identity\" cannot create resource \
                   \"tokenreviews\" in API group \"authentication.k8s.io\" at the cluster scope";
    let result = review_with(403, failure(403, "Forbidden", message)).await;
    match &result {
        Err(TokenReviewError::Api { code, reason }) => {
            assert_eq!(*code, Some(403));
            assert!(reason.contains(message), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let text = result.unwrap_err().to_string();
    assert!(text.contains("TokenReview request"), "{text}");
    assert!(text.contains("system:auth-delegator"), "{text}");
}

#[tokio::test]
async fn a_server_error_is_an_api_failure() {
    let result = review_with(
        500,
        failure(500, "InternalError", "etcdserver: request timed out"),
    )
    .await;
    match &result {
        Err(TokenReviewError::Api { code, reason }) => {
            assert_eq!(*code, Some(500));
            assert!(reason.contains("etcdserver: request timed out"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn empty_and_non_utf8_tokens_are_refused_without_a_request() {
    let (reviewer, mut server) = reviewer();
    for (token, expected) in [
        (&b""[..], TokenReviewError::EmptyToken),
        (&b" \n"[..], TokenReviewError::EmptyToken),
        (&[0xff, 0xfe, 0x41][..], TokenReviewError::NotUtf8),
    ] {
        let wait = Duration::from_millis(100);
        let (result, ()) = tokio::join!(
            tokio::time::timeout(wait, reviewer.review(token)),
            server.expect_silence(wait)
        );
        assert_eq!(result, Ok(Err(expected)), "{token:?}");
    }
}

#[tokio::test]
async fn the_token_appears_in_no_error_or_debug_output() {
    let (reviewer, mut server) = reviewer();
    let answers = [
        (
            201,
            reviewed(json!({"authenticated": false, "error": "invalid bearer token"})),
        ),
        (201, reviewed(authenticated("alice", &[]))),
        (403, failure(403, "Forbidden", "forbidden")),
    ];
    for (code, body) in answers {
        let err = review_answered(&reviewer, &mut server, TOKEN, code, body)
            .await
            .expect_err("refused");
        assert!(!err.to_string().contains(TOKEN), "{err}");
        assert!(!format!("{err:?}").contains(TOKEN), "{err:?}");
    }
    assert!(!format!("{reviewer:?}").contains(TOKEN));
}
