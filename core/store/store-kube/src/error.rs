//! How the API server's failures become [`StoreError`]s, so controllers see
//! the same errors from Kubernetes as from the embedded store.

use kube::core::DynamicObject;
use strait_store::{ObjectRef, StoreError};

use strait_store::StoredObject;

/// Maps a failed request about `object` to the store's error kinds: 404 is
/// `NotFound` (naming the namespace when it is the namespace that is
/// missing), 409 `Conflict`, 400 and 422 `Invalid` with the API server's
/// message, a response that cannot be read `Invalid`; anything else (the
/// transport, timeouts, authentication, 5xx) is `Unavailable`, to be retried.
pub(crate) fn from_kube(err: kube::Error, doing: &str, object: &ObjectRef) -> StoreError {
    match err {
        kube::Error::Api(status) => match status.code {
            404 => StoreError::NotFound {
                what: missing_namespace(&status).unwrap_or_else(|| object.to_string()),
            },
            409 => StoreError::Conflict {
                what: object.to_string(),
                reason: status.message,
            },
            400 | 422 => StoreError::Invalid {
                what: object.to_string(),
                reason: status.message,
            },
            _ => StoreError::Unavailable {
                reason: format!("{doing} {object}: {} ({})", status.message, status.code),
            },
        },
        kube::Error::SerdeError(err) => StoreError::Invalid {
            what: object.to_string(),
            reason: format!("the API server's response cannot be read: {err}"),
        },
        kube::Error::BuildRequest(err) => StoreError::Invalid {
            what: object.to_string(),
            reason: err.to_string(),
        },
        other => StoreError::Unavailable {
            reason: format!("{doing} {object}: {other}"),
        },
    }
}

/// `namespaces "mc-demo"` when the API server says the namespace an object
/// belongs in does not exist: controllers wait for the namespace instead of
/// retrying the object, and recognise the case by `what`. The API server
/// names the namespace in the details and in the message
/// (`namespaces "mc-demo" not found`); either is enough.
fn missing_namespace(status: &kube::core::Status) -> Option<String> {
    if let Some(details) = &status.details
        && details.kind == "namespaces"
        && !details.name.is_empty()
    {
        return Some(format!("namespaces {:?}", details.name));
    }
    status
        .message
        .strip_suffix(" not found")
        .filter(|what| what.starts_with("namespaces \""))
        .map(str::to_string)
}

/// Reads an untyped object as `K`, naming the object when it does not fit,
/// so a malformed object is reported as such and not as a failed request.
pub(crate) fn decode<K: StoredObject>(
    object: DynamicObject,
    what: &ObjectRef,
) -> Result<K, StoreError> {
    serde_json::to_value(object)
        .and_then(serde_json::from_value)
        .map_err(|err| StoreError::Invalid {
            what: what.to_string(),
            reason: err.to_string(),
        })
}
