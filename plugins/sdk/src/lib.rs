//! The strait plugin SDK: write an export or authz plugin as one trait impl.
//!
//! A plugin is a Rust `cdylib` crate built for `wasm32-wasip2` into a
//! WebAssembly component of one of strait's worlds. This crate carries the
//! bindings of both worlds ([`authz`] and [`export`]), a simpler trait for
//! each ([`Authorizer`], [`Exporter`]), the macros that export a type
//! ([`export_authz!`], [`export_export!`]), and helpers: [`selector`]
//! (Kubernetes label selectors, label and annotation lookup), [`identity`]
//! (mTLS identities and their parts, MeshTLSAuthentication matching),
//! [`net`] (address and network containment) and [`log`] (`info!` and
//! friends, written through the host).
//!
//! An authz plugin that admits only clients of one namespace:
//!
//! ```no_run
//! use strait_plugin_sdk::authz::{Authorization, Client, Decision, Inbound, ResourceRef};
//! use strait_plugin_sdk::{Authorizer, identity};
//!
//! struct OnlyShop;
//!
//! impl Authorizer for OnlyShop {
//!     fn authorize(client: &Client, _request: &Inbound, _candidates: &[Authorization]) -> Decision {
//!         match identity::client_identity(client) {
//!             Some(id) if id.namespace == "shop" => Decision::AllowAs(ResourceRef {
//!                 group: String::new(),
//!                 kind: "plugin".into(),
//!                 name: "only-shop".into(),
//!             }),
//!             _ => Decision::Deny("only the shop namespace may call".into()),
//!         }
//!     }
//! }
//!
//! strait_plugin_sdk::export_authz!(OnlyShop);
//! ```
//!
//! An export plugin that mirrors pod to pod every Service labelled
//! `export: "yes"`:
//!
//! ```no_run
//! use strait_plugin_sdk::export::{Decision, Link, RemoteService};
//! use strait_plugin_sdk::{Exporter, no_extras, selector};
//!
//! struct ByLabel;
//!
//! impl Exporter for ByLabel {
//!     fn decide(service: &RemoteService, _link: &Link) -> Decision {
//!         if selector::has(&service.labels, "export", "yes") {
//!             Decision::RemoteDiscovery(no_extras())
//!         } else {
//!             strait_plugin_sdk::debug!("{}/{} not labelled", service.namespace, service.name);
//!             Decision::NotExported("not labelled export=yes".into())
//!         }
//!     }
//! }
//!
//! strait_plugin_sdk::export_export!(ByLabel);
//! ```
//!
//! # A plugin crate
//!
//! The plugin is a library with `crate-type = ["cdylib"]` that depends on
//! this crate, and exports exactly one plugin with one of the macros. Build it
//! with `cargo build --target wasm32-wasip2 --release`, run it against cases
//! with `strait plugin test`, and load it with `strait plugin push`. The
//! helpers are plain Rust and run natively too, so a plugin's own unit tests
//! can call its `authorize`/`decide` logic with `cargo test` (calls on the
//! host-owned `Inbound` resource only work inside the mesh or
//! `strait plugin test`).
//!
//! # Files this crate needs
//!
//! The bindings are generated at compile time from the WIT contracts at
//! `../../wit/authz/authz.wit` and `../../wit/export/export.wit`, relative to
//! this crate's directory (its `Cargo.toml`). A copy of this crate must keep
//! that layout: for the SDK at `<dir>/sdk`, the WIT files belong at
//! `<dir>/../wit/authz/` and `<dir>/../wit/export/`.
//!
//! Only the world a plugin exports ends up in its component: the export glue
//! points logging at that world's `log` import, so the other world's import is
//! never referenced.

// The generated bindings contain the component ABI glue, which is unsafe.
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod authz;
#[allow(unsafe_code, missing_docs, clippy::all)]
pub mod export;
pub mod identity;
pub mod log;
pub mod net;
pub mod selector;

/// An authorization plugin, called for every inbound request (and once per
/// opaque TCP connection). The SDK keeps each candidate set converted, so an
/// author reads a plain slice.
///
/// Return `Allow(i)` to admit as the candidate at index `i`, `AllowAs(ref)`
/// to admit naming a rule of the plugin's own (shown by `viz authz`), or
/// `Deny(reason)`.
pub trait Authorizer {
    /// Decides on one request or connection from `client`. `request` is read
    /// on demand (method, path, headers, server, route); reading nothing costs
    /// nothing.
    fn authorize(
        client: &authz::Client,
        request: &authz::Inbound,
        candidates: &[authz::Authorization],
    ) -> authz::Decision;
}

/// An export plugin, called by a Link's service mirror for every Service of
/// the target cluster it sees (on add and on every change).
pub trait Exporter {
    /// Decides whether and how `service` is mirrored through `link`.
    fn decide(service: &export::RemoteService, link: &export::Link) -> export::Decision;

    /// Decides whether `service` joins the federated Service
    /// `<service>-federated` of the linking cluster; asked apart from
    /// [`Exporter::decide`], as a Service may be both mirrored and a member.
    /// Unless overridden, Linkerd's rule: [`selector::federated_by_link`].
    fn federate(service: &export::RemoteService, link: &export::Link) -> export::Federation {
        selector::federated_by_link(service, link)
    }
}

/// Mirror extras with no labels or annotations, for the common export
/// decisions that add nothing to the mirror Service.
pub fn no_extras() -> export::MirrorExtras {
    export::MirrorExtras {
        labels: Vec::new(),
        annotations: Vec::new(),
    }
}

/// A resource reference for `allow-as`, e.g. `reference("plugin", "my-rules")`,
/// with an empty group.
pub fn reference(kind: &str, name: &str) -> authz::ResourceRef {
    authz::ResourceRef {
        group: String::new(),
        kind: kind.to_string(),
        name: name.to_string(),
    }
}
