//! The writes: create (`POST`), update (`PUT`, of the object or its
//! status), patch (`PATCH`, in the four types the API server accepts) and
//! delete. A patch is read, applied and written back against the
//! resourceVersion read, retried when another write came in between, as
//! the API server's optimistic loop does; nothing is half-written.

use std::sync::Arc;

use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde_json::{Value, json};
use strait_store::StoreError;

use super::{Filter, Target};
use crate::handler::{Query, State, json_response, read_body};
use crate::patch::{self, PatchError, PatchType};
use crate::server::Body;
use crate::status::ApiError;

/// How often a patch is retried when the object changed under it.
const PATCH_ATTEMPTS: usize = 5;
/// The field manager of a write that names none.
const DEFAULT_MANAGER: &str = "unknown";

/// `POST` on a collection.
pub async fn create(
    state: &State,
    request: Request<Incoming>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let content_type = content_type(&request);
    let body = read_body(request.into_body()).await?;
    let mut object = decode_object(&body, &content_type)?;
    check_type(&mut object, target)?;
    place(&mut object, target)?;
    generate_name(&mut object);
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let stored = state
        .config
        .store
        .create_value(object, manager(query))
        .map_err(|e| store_error(&e, target, &name))?;
    Ok(json_response(StatusCode::CREATED, &stored))
}

/// `PUT` on an object or its status.
pub async fn update(
    state: &State,
    request: Request<Incoming>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let name = target.name()?.to_string();
    let content_type = content_type(&request);
    let body = read_body(request.into_body()).await?;
    let mut object = decode_object(&body, &content_type)?;
    check_type(&mut object, target)?;
    place(&mut object, target)?;
    if object["metadata"]["name"].as_str() != Some(name.as_str()) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object["metadata"]["name"].as_str().unwrap_or("")
        )));
    }
    write_back(state, target, &name, object, manager(query))
        .map(|stored| json_response(StatusCode::OK, &stored))
}

/// Writes a whole object, or its status for a status request.
fn write_back(
    state: &State,
    target: &Target,
    name: &str,
    object: Value,
    manager: &str,
) -> Result<Arc<Value>, ApiError> {
    let store = &state.config.store;
    let written = match target.subresource.as_deref() {
        Some("status") => store.update_status_value(object, manager),
        _ => store.update_value(object, manager),
    };
    written.map_err(|e| store_error(&e, target, name))
}

/// `PATCH` on an object or its status.
pub async fn patch(
    state: &State,
    request: Request<Incoming>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let name = target.name()?.to_string();
    let content_type = content_type(&request);
    let kind = PatchType::from_content_type(&content_type)
        .ok_or_else(|| ApiError::unsupported_media_type(&content_type))?;
    let body = read_body(request.into_body()).await?;
    if kind == PatchType::Apply {
        return apply(state, target, &name, &body, query);
    }
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the patch is not JSON: {e}")))?;
    for _ in 0..PATCH_ATTEMPTS {
        let current = state
            .config
            .store
            .get_value(&target.resource.stored_kind(), target.namespace(), &name)
            .ok_or_else(|| target.not_found())?;
        let mut patched = patched(&current, &patch, kind, target)?;
        shaped(&patched)?;
        keep_identity(&mut patched, &current);
        let asked_version =
            patched["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"];
        if !asked_version {
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
        }
        match write_back(state, target, &name, patched, manager(query)) {
            Ok(stored) => return Ok(json_response(StatusCode::OK, &stored)),
            Err(e) if e.reason == "Conflict" && !asked_version => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::from_store(
        &StoreError::Conflict {
            what: name.clone(),
            reason: "the object kept changing; please try again".into(),
        },
        &target.resource.qualified_plural(),
        &name,
    ))
}

/// `current` with `patch` applied as `kind` says.
fn patched(
    current: &Value,
    patch: &Value,
    kind: PatchType,
    target: &Target,
) -> Result<Value, ApiError> {
    let failed = |e: PatchError| match e {
        PatchError::StrategicUnsupported { .. } => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml ({e})"
            ),
        ),
        other => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            other.to_string(),
        ),
    };
    match kind {
        PatchType::Json => patch::json_patch(current, patch).map_err(failed),
        PatchType::Merge => patch::merge_patch(current, patch).map_err(failed),
        PatchType::Strategic => patch::strategic_merge_patch(
            current,
            patch,
            &target.resource.group,
            &target.resource.kind,
        )
        .map_err(failed),
        PatchType::Apply => Err(ApiError::bad_request("apply patches are not merged here")),
    }
}

/// A patch cannot rename, move or retype an object.
fn keep_identity(patched: &mut Value, current: &Value) {
    for key in ["apiVersion", "kind"] {
        patched[key] = current[key].clone();
    }
    for key in ["name", "namespace", "uid"] {
        if current["metadata"].get(key).is_some() {
            patched["metadata"][key] = current["metadata"][key].clone();
        }
    }
}

/// Server-side apply: `PATCH` with `application/apply-patch+yaml`.
fn apply(
    state: &State,
    target: &Target,
    name: &str,
    body: &[u8],
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return Err(ApiError::bad_request(
            "PATCH, application/apply-patch+yaml: fieldManager is required for apply requests",
        ));
    };
    let mut object =
        patch::parse_apply_body(body).map_err(|e| ApiError::bad_request(e.to_string()))?;
    shaped(&object)?;
    check_type(&mut object, target)?;
    place(&mut object, target)?;
    if object["metadata"]["name"].as_str() != Some(name) {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            object["metadata"]["name"].as_str().unwrap_or("")
        )));
    }
    let store = &state.config.store;
    let stored = if target.subresource.as_deref() == Some("status") {
        let current = store
            .get_value(&target.resource.stored_kind(), target.namespace(), name)
            .ok_or_else(|| target.not_found())?;
        let mut next = (*current).clone();
        strait_store::merge_patch(&mut next["status"], &object["status"]);
        store.update_status_value(next, manager)
    } else {
        store.apply_json(object, manager).map(Arc::new)
    };
    stored
        .map(|s| json_response(StatusCode::OK, &s))
        .map_err(|e| store_error(&e, target, name))
}

/// `DELETE` on an object: its last state.
pub fn delete(state: &State, target: &Target) -> Result<Response<Body>, ApiError> {
    let name = target.name()?;
    let last = state
        .config
        .store
        .delete_value(&target.resource.stored_kind(), target.namespace(), name)
        .map_err(|e| store_error(&e, target, name))?;
    Ok(json_response(StatusCode::OK, &last))
}

/// `DELETE` on a collection: every selected object, listed.
pub fn delete_collection(
    state: &State,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_query(query)?;
    let kind = target.resource.stored_kind();
    let (items, _) = state
        .config
        .store
        .list_values(&kind, target.namespace.as_deref());
    let mut deleted = Vec::new();
    for object in items.iter().filter(|o| filter.matches(o)) {
        let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
        let name = object["metadata"]["name"].as_str().unwrap_or("");
        match state.config.store.delete_value(&kind, namespace, name) {
            Ok(last) => deleted.push(last),
            Err(StoreError::NotFound { .. }) => {}
            Err(e) => return Err(store_error(&e, target, name)),
        }
    }
    let (_, rv) = state.config.store.list_values(&kind, None);
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", target.resource.kind),
            "apiVersion": target.resource.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": deleted.iter().map(|o| &**o).collect::<Vec<&Value>>(),
        }),
    ))
}

fn store_error(error: &StoreError, target: &Target, name: &str) -> ApiError {
    ApiError::from_store(error, &target.resource.qualified_plural(), name)
}

fn manager(query: &Query) -> &str {
    query
        .get("fieldManager")
        .map(String::as_str)
        .filter(|m| !m.is_empty())
        .unwrap_or(DEFAULT_MANAGER)
}

fn content_type<B>(request: &Request<B>) -> String {
    request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string()
}

/// A request body holding one object, JSON or YAML.
fn decode_object(body: &[u8], content_type: &str) -> Result<Value, ApiError> {
    let media = content_type.split(';').next().unwrap_or("").trim();
    let value: Value = match media {
        "application/json" | "" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request(format!("the object is not valid JSON: {e}")))?,
        "application/yaml" | "application/x-yaml" | "text/yaml" => {
            serde_norway::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the object is not valid YAML: {e}")))?
        }
        "application/vnd.kubernetes.protobuf" => {
            crate::protobuf::decode(body).map_err(|e| match e {
                crate::protobuf::ProtobufError::Unsupported { .. } => ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    e.to_string(),
                ),
                other => ApiError::bad_request(other.to_string()),
            })?
        }
        other => return Err(ApiError::unsupported_media_type(other)),
    };
    shaped(&value)?;
    Ok(value)
}

/// An object with an object (or no) `metadata`: what every write needs
/// before fields are set in it.
pub(super) fn shaped(value: &Value) -> Result<(), ApiError> {
    if !value.is_object() {
        return Err(ApiError::bad_request("the object must be a JSON object"));
    }
    match value.get("metadata") {
        None | Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            "metadata: Invalid value: must be an object",
        )),
    }
}

/// The object's `apiVersion` and `kind` must be the resource's (and are
/// filled in when left out).
fn check_type(object: &mut Value, target: &Target) -> Result<(), ApiError> {
    let api_version = target.resource.api_version();
    let kind = &target.resource.kind;
    let is_scale = target.subresource.as_deref() == Some("scale");
    for (key, wanted) in [
        ("apiVersion", api_version.as_str()),
        ("kind", kind.as_str()),
    ] {
        match object.get(key).and_then(Value::as_str) {
            None | Some("") => object[key] = json!(wanted),
            Some(given) if given == wanted || is_scale => {}
            Some(given) => {
                return Err(ApiError::bad_request(format!(
                    "the object's {key} {given:?} does not match the resource's ({wanted:?})"
                )));
            }
        }
    }
    Ok(())
}

/// Puts the path's namespace into the object; a different one in the body
/// is refused, as the API server refuses it.
fn place(object: &mut Value, target: &Target) -> Result<(), ApiError> {
    if !target.resource.namespaced {
        return Ok(());
    }
    let path_ns = target.namespace();
    match object["metadata"]["namespace"].as_str() {
        Some(given) if !given.is_empty() && given != path_ns => {
            Err(ApiError::bad_request(format!(
                "the namespace of the provided object ({given}) does not match the namespace sent on the request ({path_ns})"
            )))
        }
        _ => {
            object["metadata"]["namespace"] = json!(path_ns);
            Ok(())
        }
    }
}

/// A name made from `metadata.generateName`, as the API server makes one.
fn generate_name(object: &mut Value) {
    let has_name = object["metadata"]["name"]
        .as_str()
        .is_some_and(|n| !n.is_empty());
    let Some(prefix) = object["metadata"]["generateName"]
        .as_str()
        .map(str::to_string)
    else {
        return;
    };
    if has_name {
        return;
    }
    let mut bytes = [0u8; 5];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        bytes = [0; 5];
    }
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let suffix: String = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    object["metadata"]["name"] = json!(format!("{prefix}{suffix}"));
}
