//! Failures as the API server reports them: a `Status` object with its
//! code, reason and message, and details naming the object, which kubectl
//! prints (`Error from server (NotFound): services "bb" not found`) and
//! kube-rs reads into its error.

use http::StatusCode;
use serde_json::{Value, json};
use strait_store::StoreError;
use strait_store::memory::WatchError;

/// One failure of a request.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub code: StatusCode,
    /// The API's reason (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`,
    /// `BadRequest`, `Expired`...).
    pub reason: &'static str,
    /// What went wrong, in the API server's words.
    pub message: String,
    /// `details`: the object's name, group and kind, and the fields at
    /// fault.
    pub details: Option<Value>,
}

impl ApiError {
    /// A failure with no details.
    pub fn new(code: StatusCode, reason: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason,
            message: message.into(),
            details: None,
        }
    }

    /// 400 `BadRequest`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadRequest", message)
    }

    /// 404 `NotFound` for a path that names nothing served.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// 405 `MethodNotAllowed`.
    pub fn method_not_allowed(method: &http::Method, what: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!(
                "the server does not allow this method on the requested resource ({method} {what})"
            ),
        )
    }

    /// 401 `Unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized")
    }

    /// 415 `UnsupportedMediaType`.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {content_type:?})"
            ),
        )
    }

    /// 404 `NotFound` for object `name` of `qualified` (`services`,
    /// `deployments.apps`), with the details kubectl and kube-rs read.
    pub fn not_found(qualified: &str, name: &str) -> Self {
        let (kind, group) = split(qualified);
        ApiError {
            code: StatusCode::NOT_FOUND,
            reason: "NotFound",
            message: format!("{qualified} {name:?} not found"),
            details: Some(json!({"name": name, "group": group, "kind": kind})),
        }
    }

    /// The API server's answer for a failed store write or read about
    /// object `name` of `qualified`.
    pub fn from_store(error: &StoreError, qualified: &str, name: &str) -> Self {
        let (kind, group) = split(qualified);
        let details = |causes: Vec<Value>| {
            let mut d = json!({"name": name, "group": group, "kind": kind});
            if !causes.is_empty() {
                d["causes"] = Value::Array(causes);
            }
            Some(d)
        };
        match error {
            StoreError::NotFound { what } => {
                // A missing namespace is named as such, as the API server does.
                let missing_namespace = what
                    .strip_prefix("namespaces \"")
                    .and_then(|rest| rest.strip_suffix('"'));
                match missing_namespace {
                    Some(namespace) => ApiError {
                        code: StatusCode::NOT_FOUND,
                        reason: "NotFound",
                        message: format!("namespaces {namespace:?} not found"),
                        details: Some(json!({"name": namespace, "kind": "namespaces"})),
                    },
                    None => Self::not_found(qualified, name),
                }
            }
            StoreError::AlreadyExists { .. } => ApiError {
                code: StatusCode::CONFLICT,
                reason: "AlreadyExists",
                message: format!("{qualified} {name:?} already exists"),
                details: details(Vec::new()),
            },
            StoreError::Conflict { reason, .. } => ApiError {
                code: StatusCode::CONFLICT,
                reason: "Conflict",
                message: format!("Operation cannot be fulfilled on {qualified} {name:?}: {reason}"),
                details: details(Vec::new()),
            },
            StoreError::Rejected { what, causes } => {
                // The API server names the Kind here (kubectl prints
                // `The MeshTLSAuthentication "x" is invalid: ...` from it).
                let mut details = details(causes.iter().map(|c| cause(c)).collect());
                if let Some(d) = details.as_mut() {
                    d["kind"] = json!(what.split(['.', ' ']).next().unwrap_or(kind));
                }
                ApiError {
                    code: StatusCode::UNPROCESSABLE_ENTITY,
                    reason: "Invalid",
                    message: format!("{what} is invalid: {}", joined(causes)),
                    details,
                }
            }
            StoreError::Invalid { what, reason } => ApiError {
                code: StatusCode::UNPROCESSABLE_ENTITY,
                reason: "Invalid",
                message: format!("{what} is invalid: {reason}"),
                details: details(vec![cause(reason)]),
            },
            StoreError::Unavailable { reason } => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                reason.clone(),
            ),
        }
    }

    /// 410 `Expired`: a watch from a resourceVersion no longer kept.
    pub fn gone(error: &WatchError) -> Self {
        Self::new(StatusCode::GONE, "Expired", error.to_string())
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code.as_u16(),
        });
        if let Some(details) = &self.details {
            status["details"] = details.clone();
        }
        status
    }
}

/// `deployments.apps` as (`deployments`, `apps`).
fn split(qualified: &str) -> (&str, &str) {
    qualified.split_once('.').unwrap_or((qualified, ""))
}

fn joined(causes: &[String]) -> String {
    match causes {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// One cause as the API server details it: the field, and the message.
fn cause(text: &str) -> Value {
    let (field, message) = text.split_once(": ").unwrap_or(("", text));
    json!({"reason": "FieldValueInvalid", "message": message, "field": field})
}

/// The `Status` of a successful delete that returns no object.
pub fn success(qualified: &str, name: &str) -> Value {
    let (kind, group) = split(qualified);
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": name, "group": group, "kind": kind},
    })
}

#[cfg(test)]
mod tests;
