//! The authz kind: lowering requests and candidates into the plugin, lifting
//! its decision, and the fail-closed policy.

use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;

use strait_decisions::authz::{
    Authentication, Authorization, ClientTls, Decision, Inbound, Protocol, ResourceRef,
};
use strait_decisions::net::Cidr;
use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::bindings::authz_world::strait::authz::types as wit;
use crate::bindings::authz_world::{Authorizer, AuthorizerPre};
use crate::error::PluginError;
use crate::host::PluginHost;
use crate::slot::PluginSlot;
use crate::source::PluginBytes;
use crate::state::StoreState;
use crate::version::{CallOutcome, Kind, PluginKind, PluginVersion, VersionInfo};

pub(crate) struct AuthzKind;

impl Kind for AuthzKind {
    const KIND: PluginKind = PluginKind::Authz;
    type Pre = AuthorizerPre<StoreState>;
    type Instance = Authorizer;

    fn pre(pre: InstancePre<StoreState>) -> wasmtime::Result<Self::Pre> {
        AuthorizerPre::new(pre)
    }

    fn instantiate(pre: &Self::Pre, store: &mut Store<StoreState>) -> wasmtime::Result<Authorizer> {
        pre.instantiate(store)
    }
}

/// The answer to one authorization: the decision to enforce, how the plugin
/// call ended, and which version answered.
#[derive(Clone, Debug)]
pub struct AuthzVerdict {
    /// Allow or deny. A failed call is always a deny.
    pub decision: Decision,
    /// How the call ended (the `outcome` label of `plugin_calls_total`).
    pub outcome: CallOutcome,
    /// The version that answered.
    pub version: Arc<VersionInfo>,
}

/// The authz plugin of a proxy: one slot whose version can be swapped while
/// requests are being authorized.
pub struct AuthzPlugin {
    slot: PluginSlot<AuthzKind>,
}

impl AuthzPlugin {
    /// Validates `initial` (compile, world, smoke call) and makes it the active
    /// version of the slot `name` (the `plugin` metric label).
    pub fn new(host: &PluginHost, name: &str, initial: &PluginBytes) -> Result<Self, PluginError> {
        Ok(AuthzPlugin {
            slot: PluginSlot::new(host, name, initial, smoke)?,
        })
    }

    /// Replaces the active version with `plugin` once it passes validation;
    /// on error the active version keeps serving.
    pub fn load(&self, plugin: &PluginBytes) -> Result<Arc<VersionInfo>, PluginError> {
        self.slot.load(plugin, smoke)
    }

    /// The version serving now.
    pub fn active(&self) -> Arc<VersionInfo> {
        self.slot.active()
    }

    /// Why the last load was rejected, until a later load succeeds.
    pub fn last_rejection(&self) -> Option<String> {
        self.slot.last_rejection()
    }

    /// Decides on one request or connection. Never fails: a plugin that traps,
    /// runs out of time or memory, or cannot be instantiated yields a deny.
    pub fn authorize(&self, request: &Inbound, candidates: &[Authorization]) -> AuthzVerdict {
        let version = self.slot.current();
        let result = call(&version, request, candidates, true);
        let (decision, outcome) = match result {
            Ok(decision) => (decision, CallOutcome::Ok),
            Err(failure) => (
                Decision::Deny(format!("authz plugin {} {failure}", version.info.label)),
                failure.outcome(),
            ),
        };
        AuthzVerdict {
            decision,
            outcome,
            version: version.info.clone(),
        }
    }
}

/// The smoke call a version must answer before it is activated: an mTLS
/// request and one candidate. Any decision will do; trapping will not.
pub(crate) fn smoke(version: &PluginVersion<AuthzKind>, origin: &str) -> Result<(), PluginError> {
    let request = Inbound {
        client_tls: ClientTls::Mtls("smoke.strait.serviceaccount.identity.linkerd.cluster.local".into()),
        client_ip: IpAddr::from([127, 0, 0, 1]),
        server: ResourceRef::new("policy.linkerd.io", "server", "smoke"),
        port: 8080,
        protocol: Protocol::Http1,
        route: Some(ResourceRef::new("", "default", "default")),
        http: Some(strait_decisions::authz::HttpRequest {
            method: "GET".into(),
            path: "/".into(),
            authority: "smoke.strait.svc.cluster.local:8080".into(),
            headers: Vec::new(),
        }),
    };
    let candidates = [Authorization {
        reference: ResourceRef::new("", "default", "all-unauthenticated"),
        networks: strait_decisions::net::Network::all().to_vec(),
        authentication: Authentication::Unauthenticated,
    }];
    call(version, &request, &candidates, false)
        .map(drop)
        .map_err(|failure| PluginError::SmokeCall {
            origin: origin.to_string(),
            reason: format!("the plugin {failure}"),
        })
}

fn call(
    version: &PluginVersion<AuthzKind>,
    request: &Inbound,
    candidates: &[Authorization],
    counted: bool,
) -> Result<Decision, crate::version::CallFailure> {
    let lowered = Lowered::new(candidates);
    let headers: Vec<wit::Header<'_>> = request
        .http
        .iter()
        .flat_map(|h| &h.headers)
        .map(|h| wit::Header {
            name: &h.name,
            value: &h.value,
        })
        .collect();
    let inbound = inbound(request, &headers);
    lowered.with_candidates(|candidates| {
        version.call(counted, |store, instance| {
            instance.call_authorize(store, inbound, candidates)
        })
    })
    .map(lift_decision)
}

fn lift_decision(decision: wit::Decision) -> Decision {
    match decision {
        wit::Decision::Allow(r) => Decision::Allow(ResourceRef {
            group: r.group,
            kind: r.kind,
            name: r.name,
        }),
        wit::Decision::Deny(reason) => Decision::Deny(reason),
    }
}

fn ip(address: IpAddr) -> wit::IpAddress {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            wit::IpAddress::Ipv4((a, b, c, d))
        }
        IpAddr::V6(v6) => {
            let [a, b, c, d, e, f, g, h] = v6.segments();
            wit::IpAddress::Ipv6((a, b, c, d, e, f, g, h))
        }
    }
}

fn cidr(c: &Cidr) -> wit::Cidr {
    wit::Cidr {
        address: ip(c.address()),
        prefix_len: c.prefix_len(),
    }
}

fn resource_ref(r: &ResourceRef) -> wit::ResourceRefParam<'_> {
    wit::ResourceRefParam {
        group: &r.group,
        kind: &r.kind,
        name: &r.name,
    }
}

fn inbound<'a>(r: &'a Inbound, headers: &'a [wit::Header<'a>]) -> wit::Inbound<'a> {
    wit::Inbound {
        client_tls: match &r.client_tls {
            ClientTls::Plaintext(reason) => wit::ClientTls::Plaintext(reason),
            ClientTls::TlsAnonymous => wit::ClientTls::TlsAnonymous,
            ClientTls::Mtls(id) => wit::ClientTls::Mtls(id),
        },
        client_ip: ip(r.client_ip),
        server: resource_ref(&r.server),
        port: r.port,
        protocol: match r.protocol {
            Protocol::Unknown => wit::Protocol::Unknown,
            Protocol::Http1 => wit::Protocol::Http1,
            Protocol::Http2 => wit::Protocol::Http2,
            Protocol::Grpc => wit::Protocol::Grpc,
            Protocol::Opaque => wit::Protocol::Opaque,
            Protocol::Tls => wit::Protocol::Tls,
        },
        route: r.route.as_ref().map(resource_ref),
        http: r.http.as_ref().map(|h| wit::HttpRequest {
            method: &h.method,
            path: &h.path,
            authority: &h.authority,
            headers,
        }),
    }
}

/// The candidates flattened into a few arrays, so the borrowed WIT values
/// (which need slices of slices) are built with a fixed number of allocations
/// whatever the number of candidates, networks and identities.
struct Lowered<'a> {
    candidates: &'a [Authorization],
    excepts: Vec<wit::Cidr>,
    names: Vec<&'a str>,
}

impl<'a> Lowered<'a> {
    fn new(candidates: &'a [Authorization]) -> Self {
        let mut excepts = Vec::new();
        let mut names = Vec::new();
        for c in candidates {
            for n in &c.networks {
                excepts.extend(n.except.iter().map(cidr));
            }
            if let Authentication::TlsAuthenticated(ids) = &c.authentication {
                names.extend(ids.identities.iter().map(String::as_str));
                names.extend(ids.suffixes.iter().map(String::as_str));
            }
        }
        Lowered {
            candidates,
            excepts,
            names,
        }
    }

    fn with_candidates<R>(&self, f: impl FnOnce(&[wit::Authorization<'_>]) -> R) -> R {
        let mut networks = Vec::new();
        let mut except_at = 0;
        for c in self.candidates {
            for n in &c.networks {
                let range = except_at..except_at + n.except.len();
                except_at = range.end;
                networks.push(wit::Network {
                    cidr: cidr(&n.cidr),
                    except: &self.excepts[range],
                });
            }
        }
        let mut lowered = Vec::with_capacity(self.candidates.len());
        let (mut network_at, mut name_at) = (0, 0);
        for c in self.candidates {
            let nets: Range<usize> = network_at..network_at + c.networks.len();
            network_at = nets.end;
            let authentication = match &c.authentication {
                Authentication::Unauthenticated => wit::Authentication::Unauthenticated,
                Authentication::TlsUnauthenticated => wit::Authentication::TlsUnauthenticated,
                Authentication::TlsAuthenticated(ids) => {
                    let identities = name_at..name_at + ids.identities.len();
                    let suffixes = identities.end..identities.end + ids.suffixes.len();
                    name_at = suffixes.end;
                    wit::Authentication::TlsAuthenticated(wit::IdentityMatch {
                        identities: &self.names[identities],
                        suffixes: &self.names[suffixes],
                    })
                }
            };
            lowered.push(wit::Authorization {
                reference: resource_ref(&c.reference),
                networks: &networks[nets],
                authentication,
            });
        }
        f(&lowered)
    }
}
