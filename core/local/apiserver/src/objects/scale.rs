//! The `scale` subresource of Deployments, ReplicaSets and StatefulSets:
//! an `autoscaling/v1` Scale read from the object and, when written,
//! written back as the object's `spec.replicas` (what `kubectl scale`
//! does).

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::Target;
use super::write::shaped;
use crate::handler::{State, json_response, read_body};
use crate::patch::PatchType;
use crate::server::Body;
use crate::status::ApiError;

/// `GET .../scale`.
pub fn get(state: &State, target: &Target) -> Result<Response<Body>, ApiError> {
    let object = current(state, target)?;
    Ok(json_response(StatusCode::OK, &scale_of(&object)))
}

/// `PUT .../scale`.
pub async fn update(
    state: &State,
    request: Request<Incoming>,
    target: &Target,
) -> Result<Response<Body>, ApiError> {
    let body = read_body(request.into_body()).await?;
    let scale: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the Scale is not JSON: {e}")))?;
    shaped(&scale)?;
    write(state, target, &scale)
}

/// `PATCH .../scale` (merge or JSON patch of the Scale, as `kubectl scale`
/// sends).
pub async fn patch(
    state: &State,
    request: Request<Incoming>,
    target: &Target,
) -> Result<Response<Body>, ApiError> {
    let content_type = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let kind = PatchType::from_content_type(&content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
    let body = read_body(request.into_body()).await?;
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the patch is not JSON: {e}")))?;
    let mut scale = scale_of(&*current(state, target)?);
    match kind {
        PatchType::Json => {
            scale = crate::patch::json_patch(&scale, &patch).map_err(|e| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", e.to_string())
            })?;
        }
        PatchType::Merge | PatchType::Strategic | PatchType::Apply => {
            scale = crate::patch::merge_patch(&scale, &patch).map_err(|e| {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "Invalid", e.to_string())
            })?;
        }
    }
    shaped(&scale)?;
    write(state, target, &scale)
}

fn current(state: &State, target: &Target) -> Result<std::sync::Arc<Value>, ApiError> {
    state
        .config
        .store
        .get_value(
            &target.resource.stored_kind(),
            target.namespace(),
            target.name()?,
        )
        .ok_or_else(|| target.not_found())
}

/// Sets the object's replicas to the Scale's.
fn write(state: &State, target: &Target, scale: &Value) -> Result<Response<Body>, ApiError> {
    let name = target.name()?;
    let replicas = scale["spec"]["replicas"]
        .as_i64()
        .filter(|r| *r >= 0 && *r <= i64::from(i32::MAX))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid",
                format!(
                    "Scale.autoscaling {name:?} is invalid: spec.replicas: Invalid value: {}: must be greater than or equal to 0",
                    scale["spec"]["replicas"]
                ),
            )
        })?;
    let mut object = (*current(state, target)?).clone();
    if let Some(wanted) = scale["metadata"]["resourceVersion"].as_str()
        && object["metadata"]["resourceVersion"].as_str() != Some(wanted)
    {
        return Err(ApiError::from_store(
            &strait_store::StoreError::Conflict {
                what: name.to_string(),
                reason: "the object has been modified; please apply your changes to the latest version and try again".into(),
            },
            &target.resource.qualified_plural(),
            name,
        ));
    }
    if !matches!(object.get("spec"), None | Some(Value::Object(_))) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            format!("{name:?}: spec: Invalid value: must be an object"),
        ));
    }
    object["spec"]["replicas"] = json!(replicas);
    let stored = state
        .config
        .store
        .update_value(object, "kubectl-scale")
        .map_err(|e| ApiError::from_store(&e, &target.resource.qualified_plural(), name))?;
    Ok(json_response(StatusCode::OK, &scale_of(&stored)))
}

/// The Scale of a scalable object.
fn scale_of(object: &Value) -> Value {
    let meta = &object["metadata"];
    let selector = object["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|labels| {
            labels
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta["namespace"],
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": object["spec"]["replicas"].as_i64().unwrap_or(1)},
        "status": {
            "replicas": object["status"]["replicas"].as_i64().unwrap_or(0),
            "selector": selector,
        },
    })
}
