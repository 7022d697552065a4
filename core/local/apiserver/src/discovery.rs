//! Discovery, as clients find what a cluster serves: `/api` (the core
//! group's versions), `/apis` (every other group), and each group
//! version's `APIResourceList`, built from the built-in kinds and the
//! CustomResourceDefinitions in the store at the time of the request, so a
//! definition applied a moment ago is discovered as on a cluster.
//! Clients that ask for aggregated discovery (`apidiscovery.k8s.io/v2`, as
//! kubectl and client-go do) get every group version's resources in one
//! answer per root instead.

use http::{HeaderMap, Response, StatusCode, header};
use serde_json::{Value, json};

use crate::handler::{State, json_response};
use crate::resources::{Resource, group_versions};
use crate::server::Body;
use crate::status::ApiError;

/// `/api`.
pub fn api_versions(state: &State) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": state.addr.to_string()}
        ],
    })
}

/// `/apis`.
pub fn group_list(state: &State) -> Value {
    let groups: Vec<Value> = group_versions(&state.resources())
        .into_iter()
        .filter(|(group, _)| !group.is_empty())
        .map(|(group, versions)| group_entry(&group, &versions))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/GROUP`.
pub fn group(state: &State, group: &str) -> Result<Response<Body>, ApiError> {
    let found = group_versions(&state.resources())
        .into_iter()
        .find(|(g, _)| g == group);
    match found {
        Some((group, versions)) => {
            let mut entry = group_entry(&group, &versions);
            entry["kind"] = json!("APIGroup");
            entry["apiVersion"] = json!("v1");
            Ok(json_response(StatusCode::OK, &entry))
        }
        None => Err(ApiError::no_route(&format!("/apis/{group}"))),
    }
}

fn group_entry(group: &str, versions: &[String]) -> Value {
    let entries: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{group}/{v}"), "version": v}))
        .collect();
    let preferred = entries.first().cloned().unwrap_or(Value::Null);
    json!({"name": group, "versions": entries, "preferredVersion": preferred})
}

/// `/api/v1` and `/apis/GROUP/VERSION`.
pub fn resource_list(
    state: &State,
    group: &str,
    version: &str,
) -> Result<Response<Body>, ApiError> {
    let resources: Vec<Resource> = state
        .resources()
        .into_iter()
        .filter(|r| r.group == group && r.version == version)
        .collect();
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    if resources.is_empty() {
        return Err(ApiError::no_route(&format!("/apis/{group_version}")));
    }
    let entries: Vec<Value> = resources
        .iter()
        .flat_map(Resource::discovery_entries)
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": group_version,
            "resources": entries,
        }),
    ))
}

/// The media type of aggregated discovery.
const AGGREGATED: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// Whether the client asks for aggregated discovery (v2; v2beta1 is not
/// served, and a client that asks only for it gets the documents above).
pub fn wants_aggregated(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let params: Vec<&str> = media.split(';').map(str::trim).collect();
            params.contains(&"g=apidiscovery.k8s.io")
                && params.contains(&"v=v2")
                && params.contains(&"as=APIGroupDiscoveryList")
        })
}

/// `/api` (`core`) or `/apis` as an `APIGroupDiscoveryList`.
pub fn aggregated(state: &State, core: bool) -> Response<Body> {
    let resources = state.resources();
    let items: Vec<Value> = group_versions(&resources)
        .into_iter()
        .filter(|(group, _)| group.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|version| {
                    let entries: Vec<Value> = resources
                        .iter()
                        .filter(|r| r.group == group && &r.version == version)
                        .map(aggregated_resource)
                        .collect();
                    json!({"version": version, "resources": entries, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": group}, "versions": versions})
        })
        .collect();
    let body = json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    });
    let mut response = json_response(StatusCode::OK, &body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(AGGREGATED),
    );
    response
}

/// One resource as aggregated discovery lists it, subresources inside.
fn aggregated_resource(r: &Resource) -> Value {
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|sub| {
            let (group, version, kind, verbs): (&str, &str, &str, &[&str]) = match sub.as_str() {
                "log" => ("", "v1", "Pod", &["get"]),
                "scale" => ("autoscaling", "v1", "Scale", &["get", "patch", "update"]),
                _ => (&r.group, &r.version, &r.kind, &["get", "patch", "update"]),
            };
            json!({
                "subresource": sub,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": verbs,
            })
        })
        .collect();
    json!({
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular,
        "verbs": r.verbs,
        "shortNames": r.short_names,
        "categories": r.categories,
        "subresources": subresources,
    })
}
