//! The server side of `strait.plugin.v1.PluginDistribution`, written
//! against `tonic::codegen` the way tonic's generated servers are.

use std::convert::Infallible;
use std::pin::Pin;

use futures::{Stream, stream};
use tokio::sync::watch;
use tonic::codegen::{Body, BoxFuture, Context, Poll, Service, StdError, http};
use tonic::server::{Grpc, NamedService, ServerStreamingService};
use tonic::{Status, metadata::GRPC_CONTENT_TYPE};
use tonic_prost::ProstCodec;

use crate::proto::{SERVICE_NAME, WATCH_PATH};
use crate::{MAX_PLUGIN_MESSAGE_BYTES, PluginKind, PluginOffer, PluginUpdate, WatchPluginRequest};

/// The stream `Watch` answers with.
pub type PluginUpdateStream =
    Pin<Box<dyn Stream<Item = Result<PluginUpdate, Status>> + Send + 'static>>;

/// Answers `Watch` from a [`PluginOffer`].
///
/// Holds only receiving ends of the offer's channels, so the streams it
/// opens end cleanly once the offer itself is dropped.
#[derive(Clone, Debug)]
pub struct PluginDistributionService {
    authz: watch::Receiver<Option<PluginUpdate>>,
    export: watch::Receiver<Option<PluginUpdate>>,
}

impl PluginDistributionService {
    /// A service streaming what `offer` (and every clone of it) offers.
    pub fn new(offer: &PluginOffer) -> Self {
        PluginDistributionService {
            authz: offer.subscribe(PluginKind::Authz),
            export: offer.subscribe(PluginKind::Export),
        }
    }

    /// The tonic service, to add to a server; it accepts and sends
    /// messages up to [`MAX_PLUGIN_MESSAGE_BYTES`].
    pub fn into_server(self) -> PluginDistributionServer {
        PluginDistributionServer { service: self }
    }

    /// Opens a watch: the stream sends the current plugin of the requested
    /// kind, then each plugin that replaces it, skipping any whose digest
    /// the client already has (`current_digest`, then whatever was last
    /// sent). Only the latest plugin matters to a proxy, so one replaced
    /// before it was sent is never sent.
    ///
    /// The stream is driven by whoever reads it (the response body), so it
    /// stops as soon as the client goes away; nothing is left running. It
    /// ends cleanly when the offer is dropped.
    pub fn watch(&self, request: &WatchPluginRequest) -> Result<PluginUpdateStream, Status> {
        let kind: PluginKind = request
            .kind
            .parse()
            .map_err(|e| Status::invalid_argument(format!("kind: {e}")))?;
        let updates = match kind {
            PluginKind::Authz => self.authz.clone(),
            PluginKind::Export => self.export.clone(),
        };
        let watcher = Watcher {
            updates,
            // Digests are compared as lowercase hex, however the proxy
            // spelled its own.
            has: request.current_digest.to_ascii_lowercase(),
        };
        let stream = stream::unfold(watcher, |mut watcher| async move {
            let update = watcher.next().await?;
            Some((Ok(update), watcher))
        });
        Ok(Box::pin(stream))
    }
}

/// What a `Watch` stream remembers between messages.
struct Watcher {
    updates: watch::Receiver<Option<PluginUpdate>>,
    /// Digest of the plugin the client has: the one it said it runs, then
    /// the last one sent. Empty when it has none.
    has: String,
}

impl Watcher {
    /// The next plugin to send: the latest one offered, once it differs
    /// from what the client has. None once the offer is dropped.
    async fn next(&mut self) -> Option<PluginUpdate> {
        loop {
            // Marks the value seen, so the wait below only wakes for a
            // newer one; the guard is dropped before waiting.
            let latest = self.updates.borrow_and_update().clone();
            if let Some(update) = latest
                && update.digest != self.has
            {
                self.has.clone_from(&update.digest);
                return Some(update);
            }
            if self.updates.changed().await.is_err() {
                return None;
            }
        }
    }
}

/// [`PluginDistributionService`] as a tonic service, for
/// `tonic::transport::Server::add_service` or any router of
/// `http::Request`s.
#[derive(Clone, Debug)]
pub struct PluginDistributionServer {
    service: PluginDistributionService,
}

impl NamedService for PluginDistributionServer {
    const NAME: &'static str = SERVICE_NAME;
}

impl<B> Service<http::Request<B>> for PluginDistributionServer
where
    B: Body + Send + 'static,
    B::Error: Into<StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if request.uri().path() != WATCH_PATH {
            return Box::pin(async { Ok(unimplemented()) });
        }
        let method = WatchMethod(self.service.clone());
        Box::pin(async move {
            let mut grpc = Grpc::new(ProstCodec::default()).apply_max_message_size_config(
                Some(MAX_PLUGIN_MESSAGE_BYTES),
                Some(MAX_PLUGIN_MESSAGE_BYTES),
            );
            Ok(grpc.server_streaming(method, request).await)
        })
    }
}

/// The answer to a method this service does not have: gRPC's
/// Unimplemented, in the headers, as tonic's generated servers send it.
fn unimplemented() -> http::Response<tonic::body::Body> {
    let mut response = http::Response::new(tonic::body::Body::default());
    let headers = response.headers_mut();
    headers.insert(
        Status::GRPC_STATUS,
        http::HeaderValue::from(tonic::Code::Unimplemented as i32),
    );
    headers.insert(http::header::CONTENT_TYPE, GRPC_CONTENT_TYPE);
    response
}

/// The `Watch` method, as tonic's server-streaming machinery calls it.
struct WatchMethod(PluginDistributionService);

impl ServerStreamingService<WatchPluginRequest> for WatchMethod {
    type Response = PluginUpdate;
    type ResponseStream = PluginUpdateStream;
    type Future = BoxFuture<tonic::Response<PluginUpdateStream>, Status>;

    fn call(&mut self, request: tonic::Request<WatchPluginRequest>) -> Self::Future {
        let opened = self.0.watch(request.get_ref()).map(tonic::Response::new);
        Box::pin(std::future::ready(opened))
    }
}

#[cfg(test)]
mod tests;
