//! The messages of `proto/strait/plugin/v1/plugin.proto`, declared with
//! prost's derive so building needs no protoc. Field numbers and types must
//! match the `.proto` file: it is what other implementations read.

/// The gRPC service name, as routers and reflection see it.
pub const SERVICE_NAME: &str = "strait.plugin.v1.PluginDistribution";

/// The HTTP/2 path of the `Watch` method.
pub(crate) const WATCH_PATH: &str = "/strait.plugin.v1.PluginDistribution/Watch";

/// The method name, recorded in each request's extensions the way tonic's
/// generated clients do, for interceptors and tracing.
pub(crate) const WATCH_METHOD: &str = "Watch";

/// What a proxy asks for when it opens a watch.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct WatchPluginRequest {
    /// `"authz"` or `"export"`; anything else is refused with
    /// InvalidArgument.
    #[prost(string, tag = "1")]
    pub kind: String,
    /// The digest of the plugin the proxy already runs, or empty: a plugin
    /// with this digest is not sent again.
    #[prost(string, tag = "2")]
    pub current_digest: String,
}

/// One plugin, as the server offers it: everything a proxy needs to check
/// it and swap it in.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct PluginUpdate {
    /// The kind the proxy asked for, echoed so it can check.
    #[prost(string, tag = "1")]
    pub kind: String,
    /// The operator's label for the plugin, or the short digest when there
    /// is none; for logs and metrics.
    #[prost(string, tag = "2")]
    pub version: String,
    /// Lowercase hex sha256 of `wasm`, checked by the proxy before loading.
    #[prost(string, tag = "3")]
    pub digest: String,
    /// The WebAssembly component. Shared, not copied, between the offer and
    /// every stream sending it.
    #[prost(bytes = "bytes", tag = "4")]
    pub wasm: bytes::Bytes,
    /// Where the plugin came from, e.g. `configmap linkerd/strait-plugins`.
    #[prost(string, tag = "5")]
    pub origin: String,
}
