//! What strait's tests and benchmarks share, in one place.
//!
//! Before this crate every test folder carried its own copy of the same few
//! mechanics: applying a JSON object to a `MemoryStore`, polling until
//! something holds, building pods, Services and policies, serving a gRPC
//! service on loopback, loading the built-in plugins. The copies drifted
//! (one poll had no deadline, another no message saying what it waited
//! for); here each exists once, with the strictest behaviour any copy had.
//! It plays the part linkerd2-proxy's `linkerd/app/test` plays there.
//!
//! The default core depends on no strait crate but `strait-mesh`'s
//! constants:
//!
//! - [`poll`]: [`eventually`] and [`within`], which wait with a deadline and
//!   fail naming what did not happen;
//! - [`objects`]: builders of the JSON objects tests store (pods, Services,
//!   EndpointSlices, Servers, policies);
//! - [`guide`]: the names of Linkerd's pod-to-pod guide the tests replay;
//! - [`net`]: loopback ports, a plain HTTP/1.1 GET and a raw request;
//! - [`process`]: finding programs the tests drive;
//! - [`bench`]: what the benchmarks measure with;
//! - [`scrape`]: sums of a family's series in a proxy's `/metrics`;
//! - [`websocket`]: the client side of upgrades and WebSockets.
//!
//! Features add fixtures that stand on other crates, so that a crate low in
//! the stack pulls in nothing it does not use: `k8s` (typed objects),
//! `store` (a `MemoryStore`), `metrics` (Prometheus text), `plugins` (the
//! plugin host with the built-in plugins), `grpc` (loopback servers),
//! `identity` (a trust root and issuers), `mesh` (a whole control plane)
//! and `netns` (pods as network namespaces on a bridge).
//! A crate that a feature depends on does not use that feature in its own
//! tests, so no crate's tests build on a crate that depends on it.
//!
//! It is a dev-dependency only: nothing here runs outside a test or a
//! benchmark, and its helpers panic, with a message, where a test should
//! fail.

pub mod bench;
pub mod guide;
pub mod net;
pub mod objects;
pub mod poll;
pub mod process;
pub mod scrape;
pub mod websocket;

#[cfg(feature = "grpc")]
pub mod grpc;
#[cfg(feature = "identity")]
pub mod identity;
#[cfg(feature = "k8s")]
pub mod k8s;
#[cfg(feature = "mesh")]
pub mod mesh;
#[cfg(feature = "metrics")]
pub mod metrics;
#[cfg(feature = "netns")]
pub mod netns;
#[cfg(feature = "plugins")]
pub mod plugins;
#[cfg(feature = "store")]
pub mod store;

pub use poll::{PATIENCE, eventually, eventually_blocking, eventually_within, within};
