//! `/openapi/v3` and its group-version documents, built from what is
//! served at the time of the request (a CustomResourceDefinition applied a
//! moment ago is described at once).

use http::{Response, StatusCode};

use crate::handler::{State, json_response};
use crate::openapi::{self, GroupVersion, ResourceDoc};
use crate::resources::group_versions;
use crate::server::Body;
use crate::status::ApiError;

/// `GET /openapi/v3[/<group-version path>]`.
pub fn v3(state: &State, rest: &[&str]) -> Result<Response<Body>, ApiError> {
    let resources = state.resources();
    let gvs: Vec<GroupVersion> = group_versions(&resources)
        .into_iter()
        .flat_map(|(group, versions)| {
            let resources = &resources;
            versions.into_iter().map(move |version| GroupVersion {
                resources: resources
                    .iter()
                    .filter(|r| r.group == group && r.version == version)
                    .map(|r| ResourceDoc {
                        kind: r.stored_kind(),
                        schema: r.schema.clone(),
                    })
                    .collect(),
                group: group.clone(),
                version,
            })
        })
        .collect();
    if rest.is_empty() {
        return Ok(json_response(StatusCode::OK, &openapi::root(&gvs)));
    }
    let wanted = rest.join("/");
    gvs.iter()
        .find(|gv| openapi::gv_path(&gv.group, &gv.version) == wanted)
        .map(|gv| json_response(StatusCode::OK, &openapi::document(gv)))
        .ok_or_else(|| ApiError::no_route(&format!("/openapi/v3/{wanted}")))
}
