//! Watches of a Kubernetes kind: a kube-runtime watcher turned into the
//! store's events.
//!
//! The watcher lists, then watches from the list's resourceVersion, and
//! relists when the API server says that version is gone (410). Its
//! `Init` / `InitApply` / `InitDone` sequence becomes one [`Event::Reset`],
//! so each relist replaces what the consumer knew and nothing missed in the
//! gap is lost. Objects are watched untyped and decoded one by one, so an
//! object that does not fit its type is logged and skipped instead of
//! failing the whole list.
//!
//! A kind the API server does not serve (404 on the list: an optional CRD
//! such as the Gateway API's HTTPRoute, not installed) has no objects: the
//! watch says so once with an empty [`Event::Reset`], logs it once, and
//! lists again every [`ABSENT_KIND_POLL`] without failing, so the consumer
//! neither waits for that kind forever nor reports an outage, and sees its
//! objects once the CRD is installed.

use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt};
use kube::api::Api;
use kube::core::{DynamicObject, ResourceExt};
use kube::runtime::WatchStreamExt;
use kube::runtime::utils::Backoff;
use kube::runtime::watcher;
use strait_store::{Event, StoreError, WatchParams};

use crate::error::decode;
use crate::kind::{kind_of, object_ref};
use crate::selector;
use strait_store::StoredObject;

type Watcher = BoxStream<'static, watcher::Result<watcher::Event<DynamicObject>>>;

/// How often a kind the API server does not serve is listed again.
pub const ABSENT_KIND_POLL: Duration = Duration::from_secs(10);

/// The store's watch of `K` through `api`. Failures are yielded as
/// `Unavailable` and the watch goes on, pausing as `backoff` says before
/// each new attempt; the stream never ends.
pub(crate) fn watch<K: StoredObject>(
    api: Api<DynamicObject>,
    params: WatchParams,
    backoff: Box<dyn Backoff>,
) -> BoxStream<'static, Result<Event<K>, StoreError>> {
    let labels = match selector::to_query(&params.labels) {
        Ok(labels) => labels,
        Err(err) => {
            // As in the embedded store, an invalid selector matches nothing.
            tracing::warn!(kind = %K::kind(&()), "watching nothing: {err}");
            return stream::once(async { Ok(Event::Reset(Vec::new())) })
                .chain(stream::pending())
                .boxed();
        }
    };
    let mut config = watcher::Config::default();
    if let Some(labels) = &labels {
        config = config.labels(labels);
    }
    let scope = match &params.namespace {
        Some(ns) if kind_of::<K>().namespaced => format!("in {ns}"),
        _ => "in all namespaces".to_string(),
    };
    let state = Watch {
        events: watcher(api.clone(), config.clone()).boxed(),
        api,
        config,
        listing: None,
        what: format!("{} {scope}", kind_of::<K>().plural),
        absent: false,
    };
    stream::unfold(state, |mut state| async move {
        let item = state.next::<K>().await;
        Some((item, state))
    })
    .backoff(backoff)
    .boxed()
}

struct Watch {
    api: Api<DynamicObject>,
    config: watcher::Config,
    events: Watcher,
    /// Objects listed since the watcher's last `Init`, until its `InitDone`.
    listing: Option<Vec<DynamicObject>>,
    /// `services in all namespaces`, for messages.
    what: String,
    /// Whether the API server said it does not serve the kind, and the
    /// consumer was told it has no objects.
    absent: bool,
}

impl Watch {
    /// The next event for the consumer, or the next failure.
    async fn next<K: StoredObject>(&mut self) -> Result<Event<K>, StoreError> {
        loop {
            let Some(event) = self.events.next().await else {
                // A watcher does not end; should it ever, start over.
                self.restart();
                continue;
            };
            match event {
                Ok(watcher::Event::Init) => self.listing = Some(Vec::new()),
                Ok(watcher::Event::InitApply(object)) => {
                    self.listing.get_or_insert_with(Vec::new).push(object);
                }
                Ok(watcher::Event::InitDone) => {
                    self.absent = false;
                    let listed = self.listing.take().unwrap_or_default();
                    return Ok(Event::Reset(listed.into_iter().filter_map(typed).collect()));
                }
                Ok(watcher::Event::Apply(object)) => {
                    if let Some(object) = typed(object) {
                        return Ok(Event::Apply(object));
                    }
                }
                Ok(watcher::Event::Delete(object)) => {
                    if let Some(object) = typed(object) {
                        return Ok(Event::Delete(object));
                    }
                }
                Err(err) if is_not_served(&err) => {
                    if self.absent {
                        tokio::time::sleep(ABSENT_KIND_POLL).await;
                        self.restart();
                        continue;
                    }
                    tracing::warn!(
                        watch = %self.what,
                        "the API server does not serve this kind (is its CustomResourceDefinition installed?): \
                         taken as having no objects, listed again every {ABSENT_KIND_POLL:?}"
                    );
                    self.absent = true;
                    self.restart();
                    return Ok(Event::Reset(Vec::new()));
                }
                Err(err) if is_gone(&err) => {
                    // Not a failure: the resourceVersion expired, and a
                    // relist (ending in a Reset) catches up.
                    tracing::debug!(watch = %self.what, "relisting: {err}");
                    self.restart();
                }
                Err(err) => {
                    return Err(StoreError::Unavailable {
                        reason: format!("watching {}: {err}", self.what),
                    });
                }
            }
        }
    }

    /// A fresh watcher, which lists before it watches. The watcher relists
    /// by itself after most 410s, but retries a watch refused with a 410
    /// response from the same expired resourceVersion; starting over covers
    /// every case the same way.
    fn restart(&mut self) {
        self.listing = None;
        self.events = watcher(self.api.clone(), self.config.clone()).boxed();
    }
}

/// Whether the API server says the watched resourceVersion (or a list's
/// continue token) has expired: 410 Gone, whether as a response or as an
/// error event in the watch stream.
fn is_gone(err: &watcher::Error) -> bool {
    match err {
        watcher::Error::WatchError(status) => status.code == 410,
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.code == 410,
        _ => false,
    }
}

/// Whether the API server answered the list that it does not serve the
/// kind at all (404 on the collection).
fn is_not_served(err: &watcher::Error) -> bool {
    matches!(
        err,
        watcher::Error::InitialListFailed(kube::Error::Api(status)) if status.code == 404
    )
}

/// Decodes one watched object; one that does not fit `K` is logged, naming
/// it, and skipped, so it never stops the watch.
fn typed<K: StoredObject>(object: DynamicObject) -> Option<K> {
    let namespace = object.namespace().unwrap_or_default();
    let name = object.name_any();
    let what = object_ref::<K>(&namespace, &name);
    match decode(object, &what) {
        Ok(object) => Some(object),
        Err(err) => {
            tracing::warn!(
                kind = %what.kind.kind,
                namespace = %namespace,
                name = %name,
                "skipping malformed object: {err}"
            );
            None
        }
    }
}
