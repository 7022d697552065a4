//! `pods/log`: a container's output, from the host that runs the pod, as
//! plain text, streamed while `follow` holds it open.

use std::convert::Infallible;

use futures::StreamExt;
use http::{Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use crate::handler::{Query, State};
use crate::objects::{Target, is_true};
use crate::pods::LogQuery;
use crate::server::Body;
use crate::status::ApiError;

/// `GET /api/v1/namespaces/NS/pods/NAME/log`.
pub fn get(state: &State, target: &Target, query: &Query) -> Result<Response<Body>, ApiError> {
    let name = target.name()?;
    if state
        .config
        .store
        .get_value(&target.resource.stored_kind(), target.namespace(), name)
        .is_none()
    {
        return Err(target.not_found());
    }
    let log_query = parse(query)?;
    let Some(pods) = &state.config.host else {
        return Err(ApiError::bad_request(format!(
            "pod {name:?} runs on no host of this cluster; it has no log"
        )));
    };
    let lines = pods.log(target.namespace(), name, &log_query)?;
    let stream = lines.map(|chunk| Ok::<_, Infallible>(Frame::data(chunk)));
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/plain"),
    );
    Ok(response)
}

/// The log query of a request, each number checked as the API server does.
fn parse(query: &Query) -> Result<LogQuery, ApiError> {
    fn number<T: std::str::FromStr>(query: &Query, key: &str) -> Result<Option<T>, ApiError> {
        query
            .get(key)
            .map(|v| {
                v.parse::<T>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{key}: Invalid value: {v:?}: must be a non-negative number"
                    ))
                })
            })
            .transpose()
    }
    Ok(LogQuery {
        container: query.get("container").filter(|c| !c.is_empty()).cloned(),
        follow: is_true(query, "follow"),
        tail_lines: number(query, "tailLines")?,
        since_seconds: number(query, "sinceSeconds")?,
        timestamps: is_true(query, "timestamps"),
        limit_bytes: number(query, "limitBytes")?,
        previous: is_true(query, "previous"),
    })
}
