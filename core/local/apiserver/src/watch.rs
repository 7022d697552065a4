//! Watches: a stream of `{"type": ..., "object": ...}` lines from the
//! resourceVersion the client asks for (all current objects as `ADDED`
//! first when it asks for none), with the API server's label- and
//! field-selector semantics (an object entering the selection is `ADDED`,
//! one leaving it `DELETED`), bookmarks when the client allows them, a
//! `410 Expired` error event when the version is too old or the client fell
//! too far behind, and an end after `timeoutSeconds`. Each event is a
//! Table row when kubectl `get -w` asks for Tables.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use strait_store::memory::{ChangeType, RawChange, RawWatch};
use tokio::sync::mpsc;

use crate::handler::{Query, State};
use crate::objects::{Filter, Target, is_true, table, wants_table};
use crate::server::Body;
use crate::status::ApiError;
use crate::table::IncludeObject;

/// How often an idle watch that allows bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_secs(10);
/// Events buffered for a slow client before the watch waits for it.
const EVENT_BUFFER: usize = 64;

/// What one watch sends, besides the changes.
struct Shape {
    filter: Filter,
    namespace: Option<String>,
    table: Option<IncludeObject>,
    bookmarks: bool,
    kind: String,
    api_version: String,
}

/// Starts a watch and answers with its stream.
pub fn serve<B>(
    state: &State,
    request: &Request<B>,
    target: &Target,
    query: &Query,
) -> Result<Response<Body>, ApiError> {
    let since = match query.get("resourceVersion").map(String::as_str) {
        None | Some("" | "0") => None,
        Some(rv) => Some(rv.parse::<u64>().map_err(|_| {
            ApiError::bad_request(format!(
                "resourceVersion: Invalid value: {rv:?}: must be a number"
            ))
        })?),
    };
    let timeout = query
        .get("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_secs);
    let shape = Shape {
        filter: Filter::from_query(query)?,
        namespace: target.namespace.clone(),
        table: wants_table(request, query),
        bookmarks: is_true(query, "allowWatchBookmarks"),
        kind: target.resource.kind.clone(),
        api_version: target.resource.api_version(),
    };
    let table_target = Target {
        resource: target.resource.clone(),
        namespace: target.namespace.clone(),
        name: None,
        subresource: None,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(EVENT_BUFFER);
    match state
        .config
        .store
        .watch_values(&target.resource.stored_kind(), since)
    {
        Ok(watch) => {
            tokio::spawn(run(watch, shape, table_target, tx, timeout));
        }
        Err(gone) => {
            let line = event_line("ERROR", &ApiError::gone(&gone).to_status());
            // The channel is new and empty: this cannot be full.
            let _ = tx.try_send(line);
        }
    }
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        Some((Ok::<_, Infallible>(Frame::data(chunk)), rx))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
    *response.status_mut() = StatusCode::OK;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// Sends the watch's events until the client goes, the timeout passes or
/// the watch cannot go on.
async fn run(
    mut watch: RawWatch,
    shape: Shape,
    target: Target,
    tx: mpsc::Sender<Bytes>,
    timeout: Option<Duration>,
) {
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut bookmark = tokio::time::interval(BOOKMARK_EVERY);
    bookmark.reset();
    loop {
        let line = tokio::select! {
            change = watch.next() => match change {
                Ok(change) => match event(&shape, &target, &change) {
                    Some(line) => line,
                    None => continue,
                },
                Err(gone) => {
                    let _ = tx.send(event_line("ERROR", &ApiError::gone(&gone).to_status())).await;
                    return;
                }
            },
            _ = bookmark.tick(), if shape.bookmarks && shape.table.is_none() => {
                match watch.bookmark() {
                    Some(rv) => event_line("BOOKMARK", &json!({
                        "kind": shape.kind,
                        "apiVersion": shape.api_version,
                        "metadata": {"resourceVersion": rv.to_string()},
                    })),
                    None => continue,
                }
            }
            _ = sleep_until(deadline) => return,
            _ = tx.closed() => return,
        };
        if tx.send(line).await.is_err() {
            return;
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The event a change is for this watch, if any.
fn event(shape: &Shape, target: &Target, change: &RawChange) -> Option<Bytes> {
    let in_scope = |object: &Value| {
        shape
            .namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns))
            && shape.filter.matches(object)
    };
    let now = in_scope(&change.object);
    let before = change.previous.as_deref().is_some_and(in_scope);
    let kind = match (change.change_type, before, now) {
        (ChangeType::Deleted, true, _) => "DELETED",
        (ChangeType::Deleted, false, _) => return None,
        (_, false, true) => "ADDED",
        (ChangeType::Added, _, true) => "ADDED",
        (_, true, true) => "MODIFIED",
        (_, true, false) => "DELETED",
        (_, false, false) => return None,
    };
    let object = match shape.table {
        Some(include) => table(
            target,
            std::slice::from_ref(&change.object),
            include,
            change.revision,
        ),
        None => (*change.object).clone(),
    };
    Some(event_line(kind, &object))
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = serde_json::to_vec(&json!({"type": kind, "object": object})).unwrap_or_default();
    line.push(b'\n');
    Bytes::from(line)
}
