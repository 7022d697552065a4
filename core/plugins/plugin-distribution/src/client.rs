//! The proxy's side of `strait.plugin.v1.PluginDistribution`, written
//! against `tonic::client::Grpc` the way tonic's generated clients are, so
//! it runs over any gRPC transport the proxy brings.

use std::pin::Pin;

use futures::{Stream, StreamExt};
use tonic::client::{Grpc, GrpcService};
use tonic::codec::Streaming;
use tonic::codegen::{Body, Bytes, Context, GrpcMethod, Poll, StdError, http};
use tonic::{IntoRequest, Status};
use tonic_prost::ProstCodec;

use crate::proto::{SERVICE_NAME, WATCH_METHOD, WATCH_PATH};
use crate::{
    MAX_PLUGIN_MESSAGE_BYTES, PluginKind, PluginUpdate, WatchPluginRequest, plugin_digest,
};

/// A client of the plugin service, over any tonic `GrpcService` (a
/// `tonic::transport::Channel`, or the proxy's own connection stack).
/// It accepts messages up to [`MAX_PLUGIN_MESSAGE_BYTES`], past gRPC's 4 MiB
/// default, since plugins can be that large.
#[derive(Clone, Debug)]
pub struct PluginDistributionClient<T> {
    inner: Grpc<T>,
}

impl<T> PluginDistributionClient<T>
where
    T: GrpcService<tonic::body::Body>,
    T::Error: Into<StdError>,
    T::ResponseBody: Body<Data = Bytes> + Send + 'static,
    <T::ResponseBody as Body>::Error: Into<StdError> + Send,
{
    /// A client sending its requests to `inner`.
    pub fn new(inner: T) -> Self {
        let inner = Grpc::new(inner)
            .max_decoding_message_size(MAX_PLUGIN_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_PLUGIN_MESSAGE_BYTES);
        PluginDistributionClient { inner }
    }

    /// Watches the plugin of `kind`. `current_digest` is the digest of the
    /// plugin the proxy already runs, if any, so the server does not send
    /// it again. The updates are as the server sent them: check each with
    /// [`verify_update`], or use [`Self::watch_verified`].
    pub async fn watch(
        &mut self,
        kind: PluginKind,
        current_digest: Option<&str>,
    ) -> Result<Streaming<PluginUpdate>, Status> {
        let request = WatchPluginRequest {
            kind: kind.as_str().to_string(),
            current_digest: current_digest.unwrap_or_default().to_string(),
        };
        Ok(self.watch_request(request).await?.into_inner())
    }

    /// Watches the plugin of `kind`, checking every update before handing
    /// it on: the way a proxy should watch, since it is about to run the
    /// bytes it receives.
    pub async fn watch_verified(
        &mut self,
        kind: PluginKind,
        current_digest: Option<&str>,
    ) -> Result<VerifiedUpdates, Status> {
        let updates = self.watch(kind, current_digest).await?;
        Ok(VerifiedUpdates::new(kind, updates))
    }

    /// Sends a raw `Watch` request, with whatever metadata it carries and
    /// whatever kind it names, and returns the response with its metadata.
    pub async fn watch_request(
        &mut self,
        request: impl IntoRequest<WatchPluginRequest>,
    ) -> Result<tonic::Response<Streaming<PluginUpdate>>, Status> {
        self.inner.ready().await.map_err(|e| {
            let e: StdError = e.into();
            Status::unavailable(format!("plugin service not ready: {e}"))
        })?;
        let mut request = request.into_request();
        request
            .extensions_mut()
            .insert(GrpcMethod::new(SERVICE_NAME, WATCH_METHOD));
        let path = http::uri::PathAndQuery::from_static(WATCH_PATH);
        self.inner
            .server_streaming(request, path, ProstCodec::default())
            .await
    }
}

/// Why a received update was refused. A proxy keeps running the plugin it
/// has and should reconnect: a server sending a wrong update is broken or
/// the bytes were damaged on the way.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptUpdate {
    /// The bytes do not hash to the digest the update claims.
    #[error(
        "{kind} plugin {version}: claims digest {claimed} but its {size} bytes hash to {actual}"
    )]
    DigestMismatch {
        /// The kind the update named.
        kind: String,
        /// The version the update named.
        version: String,
        /// The digest the update claimed.
        claimed: String,
        /// The digest of the bytes received.
        actual: String,
        /// How many bytes were received.
        size: usize,
    },
    /// The update is for another kind than the one watched.
    #[error("asked for the {asked} plugin, got a {got:?} plugin")]
    WrongKind {
        /// The kind watched.
        asked: PluginKind,
        /// The kind the update named.
        got: String,
    },
}

impl From<CorruptUpdate> for Status {
    /// Corruption is DataLoss: the update cannot be used, and asking again
    /// may fix it.
    fn from(corrupt: CorruptUpdate) -> Status {
        Status::data_loss(corrupt.to_string())
    }
}

/// Checks that `update` is a plugin of `kind` whose bytes match its digest.
/// A proxy must not load an update that fails this.
pub fn verify_update(update: &PluginUpdate, kind: PluginKind) -> Result<(), CorruptUpdate> {
    if update.kind != kind.as_str() {
        return Err(CorruptUpdate::WrongKind {
            asked: kind,
            got: update.kind.clone(),
        });
    }
    let actual = plugin_digest(&update.wasm);
    if actual != update.digest {
        return Err(CorruptUpdate::DigestMismatch {
            kind: update.kind.clone(),
            version: update.version.clone(),
            claimed: update.digest.clone(),
            actual,
            size: update.wasm.len(),
        });
    }
    Ok(())
}

/// A watch whose updates are all checked with [`verify_update`]: a
/// corrupted update ends the stream with a DataLoss error and is never
/// handed on.
///
/// Generic over the underlying stream so it can check updates from any
/// source; from [`PluginDistributionClient::watch_verified`] it wraps the
/// gRPC stream.
#[derive(Debug)]
pub struct VerifiedUpdates<S = Streaming<PluginUpdate>> {
    kind: PluginKind,
    updates: S,
    /// Set once the stream has failed or ended: nothing after a corrupt
    /// update is trusted.
    done: bool,
}

impl<S> VerifiedUpdates<S>
where
    S: Stream<Item = Result<PluginUpdate, Status>> + Unpin,
{
    /// Checks the updates of `kind` that `updates` yields.
    pub fn new(kind: PluginKind, updates: S) -> Self {
        VerifiedUpdates {
            kind,
            updates,
            done: false,
        }
    }

    /// The next verified update; none once the server ends the stream, an
    /// error if the stream fails or the update is corrupt (after which the
    /// stream is over).
    pub async fn message(&mut self) -> Result<Option<PluginUpdate>, Status> {
        self.next().await.transpose()
    }
}

impl<S> Stream for VerifiedUpdates<S>
where
    S: Stream<Item = Result<PluginUpdate, Status>> + Unpin,
{
    type Item = Result<PluginUpdate, Status>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        let item = match this.updates.poll_next_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(item) => item,
        };
        let checked = match item {
            Some(Ok(update)) => match verify_update(&update, this.kind) {
                Ok(()) => return Poll::Ready(Some(Ok(update))),
                Err(corrupt) => Some(Err(Status::from(corrupt))),
            },
            other => other,
        };
        this.done = true;
        Poll::Ready(checked)
    }
}

#[cfg(test)]
mod tests;
