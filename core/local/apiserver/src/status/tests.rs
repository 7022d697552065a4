use super::*;

#[test]
fn not_found_reads_as_kubectl_prints_it() {
    let status = ApiError::not_found("services", "bb").to_status();
    assert_eq!(status["code"], 404);
    assert_eq!(status["reason"], "NotFound");
    assert_eq!(status["message"], "services \"bb\" not found");
    assert_eq!(status["details"]["name"], "bb");
}

#[test]
fn a_missing_namespace_is_named_as_the_namespace() {
    let error = StoreError::NotFound {
        what: "namespaces \"mc-demo\"".into(),
    };
    let status = ApiError::from_store(&error, "services", "bb").to_status();
    assert_eq!(status["message"], "namespaces \"mc-demo\" not found");
    assert_eq!(status["details"]["kind"], "namespaces");
    assert_eq!(status["details"]["name"], "mc-demo");
}

#[test]
fn schema_refusals_are_422_invalid_with_every_cause() {
    let error = StoreError::Rejected {
        what: "MeshTLSAuthentication.policy.linkerd.io \"nobody\"".into(),
        causes: vec![
            "spec.identities: Invalid value: 0: spec.identities in body should have at least 1 items".into(),
            "spec.bogus: Invalid value: \"x\": field not declared in schema".into(),
        ],
    };
    let status = ApiError::from_store(&error, "meshtlsauthentications.policy.linkerd.io", "nobody")
        .to_status();
    assert_eq!(status["code"], 422);
    assert_eq!(status["reason"], "Invalid");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid: [")
    );
    assert_eq!(status["details"]["causes"][0]["field"], "spec.identities");
    assert_eq!(status["details"]["causes"][1]["field"], "spec.bogus");
    assert_eq!(status["details"]["group"], "policy.linkerd.io");
}

#[test]
fn conflicts_and_duplicates_are_409_with_their_reasons() {
    let exists = ApiError::from_store(
        &StoreError::AlreadyExists { what: "x".into() },
        "services",
        "bb",
    );
    assert_eq!(
        (exists.code.as_u16(), exists.reason),
        (409, "AlreadyExists")
    );
    assert_eq!(exists.message, "services \"bb\" already exists");
    let conflict = ApiError::from_store(
        &StoreError::Conflict {
            what: "x".into(),
            reason: "stale".into(),
        },
        "deployments.apps",
        "bb",
    );
    assert_eq!((conflict.code.as_u16(), conflict.reason), (409, "Conflict"));
    assert_eq!(
        conflict.message,
        "Operation cannot be fulfilled on deployments.apps \"bb\": stale"
    );
}

#[test]
fn a_too_old_version_is_410_expired() {
    let gone = ApiError::gone(&WatchError::Gone {
        asked: 3,
        oldest: 9,
    });
    assert_eq!((gone.code.as_u16(), gone.reason), (410, "Expired"));
    assert_eq!(gone.message, "too old resource version: 3 (9)");
}
