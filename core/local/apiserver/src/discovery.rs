//! Discovery, as clients find what a cluster serves: `/api` (the core
//! group's versions), `/apis` (every other group), and each group
//! version's `APIResourceList`, built from the built-in kinds and the
//! CustomResourceDefinitions in the store at the time of the request, so a
//! definition applied a moment ago is discovered as on a cluster.
//! Aggregated discovery is not offered; clients that ask for it fall back
//! to these documents, as they do with any server that does not serve it.

use http::{Response, StatusCode};
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
