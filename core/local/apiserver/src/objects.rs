//! The verbs on a resource path: get, list and watch, create, update,
//! the four patches (JSON, merge, strategic merge, server-side apply),
//! delete, and the `status`, `scale` and `log` subresources, each as the
//! API server answers it.

mod scale;
mod write;

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;
use serde_json::{Value, json};

use crate::handler::{Query, ResourcePath, State, json_response};
use crate::resources::Resource;
use crate::selector;
use crate::server::Body;
use crate::status::ApiError;
use crate::table::IncludeObject;

/// One request on a resource, resolved against what is served.
pub struct Target {
    /// The resource.
    pub resource: Resource,
    /// The namespace, for a namespaced resource.
    pub namespace: Option<String>,
    /// The object's name, if the path names one.
    pub name: Option<String>,
    /// The subresource, if any.
    pub subresource: Option<String>,
}

impl Target {
    /// The namespace an object of this request lives in: the path's, empty
    /// for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }

    /// The object's name, or the API server's error for a path that needs one.
    pub fn name(&self) -> Result<&str, ApiError> {
        self.name
            .as_deref()
            .ok_or_else(|| ApiError::bad_request("a resource name is required for this request"))
    }

    /// 404 for the object this request names.
    pub fn not_found(&self) -> ApiError {
        ApiError::not_found(
            &self.resource.qualified_plural(),
            self.name.as_deref().unwrap_or(""),
        )
    }
}

/// Answers a request on a resource path.
pub async fn handle(
    state: &State,
    request: Request<Incoming>,
    path: ResourcePath,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    let resource = state
        .resources()
        .into_iter()
        .find(|r| r.group == path.group && r.version == path.version && r.plural == path.plural)
        .ok_or_else(|| ApiError::no_route(&format!("{}/{}", path.group, path.plural)))?;
    if path.namespace.is_some() && !resource.namespaced {
        return Err(ApiError::no_route(&resource.plural));
    }
    if let Some(sub) = &path.subresource
        && !resource.subresources.contains(sub)
    {
        return Err(ApiError::no_route(&format!("{}/{sub}", resource.plural)));
    }
    if query.contains_key("dryRun") {
        return Err(ApiError::bad_request(
            "dryRun is not supported by a local cluster's API server; nothing was changed",
        ));
    }
    let target = Target {
        resource,
        namespace: path.namespace,
        name: path.name,
        subresource: path.subresource,
    };
    let method = request.method().clone();
    match (
        &method,
        target.name.is_some(),
        target.subresource.as_deref(),
    ) {
        (&Method::GET, _, Some("log")) => crate::logs::get(state, &target, &query),
        (&Method::GET, true, Some("scale")) => scale::get(state, &target),
        (&Method::GET, true, _) => get(state, &request, &target, &query),
        (&Method::GET, false, _) if is_true(&query, "watch") => {
            crate::watch::serve(state, &request, &target, &query)
        }
        (&Method::GET, false, _) => list(state, &request, &target, &query),
        (&Method::POST, false, None) => write::create(state, request, &target, &query).await,
        (&Method::PUT, true, Some("scale")) => scale::update(state, request, &target).await,
        (&Method::PUT, true, _) => write::update(state, request, &target, &query).await,
        (&Method::PATCH, true, Some("scale")) => scale::patch(state, request, &target).await,
        (&Method::PATCH, true, _) => write::patch(state, request, &target, &query).await,
        (&Method::DELETE, true, None) => write::delete(state, &target),
        (&Method::DELETE, false, None) => write::delete_collection(state, &target, &query),
        _ => Err(ApiError::method_not_allowed(
            &method,
            &target.resource.qualified_plural(),
        )),
    }
}

/// Whether a boolean query parameter is set (`true` or `1`).
pub fn is_true(query: &Query, key: &str) -> bool {
    matches!(query.get(key).map(String::as_str), Some("true" | "1"))
}

/// Whether the client asked for a Table (kubectl's `get`), and with what
/// of each object.
pub fn wants_table<B>(request: &Request<B>, query: &Query) -> Option<IncludeObject> {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !accept.contains("as=Table") {
        return None;
    }
    Some(match query.get("includeObject").map(String::as_str) {
        Some("None") => IncludeObject::None,
        Some("Object") => IncludeObject::Object,
        _ => IncludeObject::Metadata,
    })
}

/// The Table of `objects` for this target's resource.
pub fn table(target: &Target, objects: &[Arc<Value>], include: IncludeObject, rv: u64) -> Value {
    let rv = rv.to_string();
    let options = crate::table::TableOptions {
        printer_columns: target.resource.printer_columns.as_ref(),
        include_object: include,
        resource_version: &rv,
        now_secs: now_secs(),
    };
    crate::table::table(&target.resource.stored_kind(), objects, &options)
}

/// Seconds since the Unix epoch, for the ages in Tables.
fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn get(
    state: &State,
    request: &Request<Incoming>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let name = target.name()?;
    let object = state
        .config
        .store
        .get_value(&target.resource.stored_kind(), target.namespace(), name)
        .ok_or_else(|| target.not_found())?;
    let rv = revision_of(&object);
    match wants_table(request, query) {
        Some(include) => Ok(json_response(
            StatusCode::OK,
            &table(target, &[object], include, rv),
        )),
        None => Ok(json_response(StatusCode::OK, &object)),
    }
}

fn list(
    state: &State,
    request: &Request<Incoming>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let filter = Filter::from_query(query)?;
    let (items, rv) = state
        .config
        .store
        .list_values(&target.resource.stored_kind(), target.namespace.as_deref());
    let items: Vec<Arc<Value>> = items.into_iter().filter(|o| filter.matches(o)).collect();
    if let Some(include) = wants_table(request, query) {
        return Ok(json_response(
            StatusCode::OK,
            &table(target, &items, include, rv),
        ));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", target.resource.kind),
            "apiVersion": target.resource.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items.iter().map(|o| &**o).collect::<Vec<&Value>>(),
        }),
    ))
}

/// The label and field selectors of a list or watch.
pub struct Filter {
    labels: strait_decisions::selector::LabelSelector,
    fields: Vec<selector::FieldRequirement>,
}

impl Filter {
    /// The selectors of `query`, or the API server's error naming the one
    /// that cannot be parsed.
    pub fn from_query(query: &Query) -> Result<Self, ApiError> {
        let text = |key: &str| query.get(key).map(String::as_str).unwrap_or("");
        let labels = selector::labels(text("labelSelector"))
            .map_err(|e| ApiError::bad_request(format!("labelSelector: {e}")))?;
        let fields = selector::fields(text("fieldSelector"))
            .map_err(|e| ApiError::bad_request(format!("fieldSelector: {e}")))?;
        Ok(Filter { labels, fields })
    }

    /// Whether `object` is selected.
    pub fn matches(&self, object: &Value) -> bool {
        selector::labels_match(&self.labels, object) && selector::fields_match(&self.fields, object)
    }
}

/// An object's resourceVersion as a number.
pub fn revision_of(object: &Value) -> u64 {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
        .unwrap_or(0)
}
