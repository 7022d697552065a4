//! What bb's `terminus` prints, in bb's own words: it logs with logrus'
//! text format (`time="…" level=info msg="…"`), a line when its HTTP
//! server starts and, for each request without a body (what slow_cooker
//! sends), one line assigning the request an id and one with the request
//! and the response; a failed request gets an error line instead.

use std::time::SystemTime;

use crate::images::Terminus;
use crate::logs::rfc3339_seconds;

/// bb's id for a server with no `--id`: its mode and ports, -1 for none.
pub(crate) fn config_id(terminus: &Terminus) -> String {
    format!("terminus-grpc:-1-h1:{}", terminus.port)
}

/// One logrus line: its time, level and message, the message quoted as Go
/// quotes a string.
fn logrus(level: &str, at: SystemTime, msg: &str) -> String {
    format!("time=\"{}\" level={level} msg={msg:?}", rfc3339_seconds(at))
}

/// The line bb prints when its HTTP/1.1 server starts.
pub(crate) fn listening(terminus: &Terminus, at: SystemTime) -> String {
    logrus(
        "info",
        at,
        &format!("HTTP 1.1 server listening on port [{}]", terminus.port),
    )
}

/// The id bb gives a request that came without one: `in:http-sid:` with
/// its config id and the nanoseconds of the current second.
pub(crate) fn request_uid(id: &str, at: SystemTime) -> String {
    let nanos = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .subsec_nanos();
    format!("in:http-sid:{id}-{nanos}")
}

/// The line bb prints on receiving a request without a body.
pub(crate) fn received(uid: &str, at: SystemTime) -> String {
    logrus(
        "info",
        at,
        &format!("Received request with empty body, assigning new request UID [{uid}] to it"),
    )
}

/// The line bb prints once it has answered: the request (as Go prints the
/// request message's fields) and the response (as protobuf's compact
/// text).
pub(crate) fn answered(
    uid: &str,
    method: &str,
    target: &str,
    payload: &str,
    at: SystemTime,
) -> String {
    let request = format!(
        "{{RequestUID:{uid} XXX_NoUnkeyedLiteral:{{}} XXX_unrecognized:[] XXX_sizecache:0}}"
    );
    let response = format!("requestUID:{uid:?} payload:{payload:?} ");
    logrus(
        "info",
        at,
        &format!(
            "Received HTTP request [{uid}] [{method} {target}] Body [{request}] Returning response [{response}]"
        ),
    )
}

/// The line bb prints for a request it fails on purpose
/// (`--percent-failure`).
pub(crate) fn injected_failure(id: &str, at: SystemTime) -> String {
    logrus(
        "error",
        at,
        &format!(
            "Error while handling HTTP request: error handling http request: this error was injected by [{id}]"
        ),
    )
}
