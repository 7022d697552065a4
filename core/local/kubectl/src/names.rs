//! How kubectl names kinds, objects and failed requests in its messages.

use strait_local_api::ClientError;
use strait_local_api::wire::ObjectId;

/// kubectl's name of an object's kind in messages: the lowercase kind, with
/// the group for non-core kinds (`service`, `deployment.apps`,
/// `link.multicluster.linkerd.io`).
pub fn kind_name(group: &str, kind: &str) -> String {
    let kind = kind.to_ascii_lowercase();
    if group.is_empty() {
        kind
    } else {
        format!("{kind}.{group}")
    }
}

/// `service/bb`, as kubectl names an object in its one-line reports.
pub fn object_name(object: &ObjectId) -> String {
    format!("{}/{}", kind_name(&object.group, &object.kind), object.name)
}

/// A failed request as kubectl prints it: the server's own words after
/// `Error from server (Reason)`, or the client's message.
pub fn describe_error(err: &ClientError) -> String {
    match (err.status(), err.api_message()) {
        (Some(status), Some(message)) => {
            let reason = match status.as_u16() {
                400 => "BadRequest",
                404 => "NotFound",
                409 => "Conflict",
                _ => status.canonical_reason().unwrap_or("Error"),
            };
            format!("Error from server ({reason}): {message}")
        }
        _ => format!("error: {err}"),
    }
}

#[cfg(test)]
mod tests;
