//! The authz kind: lowering requests and candidates into the plugin, lifting
//! its decision, and the fail-closed policy.

use std::net::IpAddr;
use std::ops::Range;
use std::sync::Arc;

use http::HeaderMap;
use strait_decisions::authz::{
    Authentication, Authorization, CandidateSet, ClientTls, Decision, Inbound, Protocol,
    ResourceRef,
};
use strait_decisions::net::Cidr;
use wasmtime::Store;
use wasmtime::component::{InstancePre, Resource, ResourceAny};

use crate::bindings::authz_world::strait::authz::types as wit;
use crate::bindings::authz_world::{AuthzPlugin as AuthzInstance, AuthzPluginPre};
use crate::error::PluginError;
use crate::host::PluginHost;
use crate::slot::PluginSlot;
use crate::source::PluginBytes;
use crate::state::StoreState;
use crate::version::{CallOutcome, Kind, PluginKind, PluginVersion, VersionInfo};

pub(crate) struct AuthzKind;

impl Kind for AuthzKind {
    const KIND: PluginKind = PluginKind::Authz;
    type Pre = AuthzPluginPre<StoreState>;
    type Instance = AuthzInstance;
    type Cache = InstanceInputs;

    fn pre(pre: InstancePre<StoreState>) -> wasmtime::Result<Self::Pre> {
        AuthzPluginPre::new(pre)
    }

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<StoreState>,
    ) -> wasmtime::Result<AuthzInstance> {
        pre.instantiate(store)
    }
}

/// The request behind the `inbound` resource the plugin reads from; empty
/// between calls.
pub struct HostInbound {
    request: Option<Arc<Inbound>>,
    /// The request's headers as they arrived, when the caller lends them
    /// (see [`AuthzPlugin::authorize_with_headers`]); otherwise the
    /// plugin reads those listed in the request.
    headers: Option<HeaderMap>,
}

/// What one instance keeps between calls: the `inbound` resource it is lent
/// (refilled with each request, so no resource is created per call), and the
/// candidate sets already handed to it by [`CandidateSet::id`], so a policy's
/// candidates cross into the plugin once rather than on every request. The
/// sets are bounded; the oldest is released when full.
#[derive(Default)]
pub(crate) struct InstanceInputs {
    inbound: Option<Resource<HostInbound>>,
    sets: Vec<(u64, ResourceAny)>,
}

/// Candidate sets kept per instance; a proxy has one per server port and route.
const PREPARED_SETS_PER_INSTANCE: usize = 64;

impl InstanceInputs {
    /// Puts `request` (and `headers`, when lent) behind this instance's
    /// `inbound` resource.
    fn lend(
        &mut self,
        store: &mut Store<StoreState>,
        request: Arc<Inbound>,
        headers: Option<HeaderMap>,
    ) -> wasmtime::Result<Resource<HostInbound>> {
        let table = store.data_mut().table();
        match &self.inbound {
            Some(handle) => {
                let inbound = table.get_mut(handle)?;
                inbound.request = Some(request);
                inbound.headers = headers;
                Ok(Resource::new_borrow(handle.rep()))
            }
            None => {
                let handle = table.push(HostInbound {
                    request: Some(request),
                    headers,
                })?;
                let borrowed = Resource::new_borrow(handle.rep());
                self.inbound = Some(handle);
                Ok(borrowed)
            }
        }
    }

    /// Releases the request after the call, handing back the headers lent
    /// with it.
    fn reclaim(&mut self, store: &mut Store<StoreState>) -> wasmtime::Result<Option<HeaderMap>> {
        let Some(handle) = &self.inbound else {
            return Ok(None);
        };
        let inbound = store.data_mut().table().get_mut(handle)?;
        inbound.request = None;
        Ok(inbound.headers.take())
    }

    fn get_or_prepare(
        &mut self,
        store: &mut Store<StoreState>,
        instance: &AuthzInstance,
        set: &CandidateSet,
    ) -> wasmtime::Result<ResourceAny> {
        if let Some((_, prepared)) = self.sets.iter().find(|(id, _)| *id == set.id()) {
            return Ok(*prepared);
        }
        let lowered = Lowered::new(set);
        let prepared = lowered.with_candidates(|candidates| {
            instance
                .strait_authz_authorizer()
                .candidates()
                .call_constructor(&mut *store, candidates)
        })?;
        if self.sets.len() >= PREPARED_SETS_PER_INSTANCE {
            let (_, oldest) = self.sets.remove(0);
            oldest.resource_drop(&mut *store)?;
        }
        self.sets.push((set.id(), prepared));
        Ok(prepared)
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
    ///
    /// The request is shared with the plugin for the call (it reads the
    /// fields it needs); the candidates are passed into each plugin instance
    /// once per set and referred to afterwards.
    pub fn authorize(
        &self,
        request: impl Into<Arc<Inbound>>,
        candidates: &CandidateSet,
    ) -> AuthzVerdict {
        let mut no_headers = None;
        self.verdict(request.into(), &mut no_headers, candidates)
    }

    /// [`AuthzPlugin::authorize`] for an HTTP request whose headers the
    /// plugin reads from `headers` as they arrived, on demand: the plugin
    /// asks for the few it needs, if any, so none is copied beforehand.
    /// They are lent for the call and handed back; if a failed call lost
    /// them, it denied, and the empty map handed back is never forwarded.
    pub fn authorize_with_headers(
        &self,
        request: impl Into<Arc<Inbound>>,
        headers: HeaderMap,
        candidates: &CandidateSet,
    ) -> (AuthzVerdict, HeaderMap) {
        let mut lent = Some(headers);
        let verdict = self.verdict(request.into(), &mut lent, candidates);
        (verdict, lent.unwrap_or_default())
    }

    fn verdict(
        &self,
        request: Arc<Inbound>,
        headers: &mut Option<HeaderMap>,
        candidates: &CandidateSet,
    ) -> AuthzVerdict {
        let version = self.slot.current();
        let result = call(&version, request, headers, candidates, true);
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
        client_tls: ClientTls::Mtls(
            "smoke.strait.serviceaccount.identity.linkerd.cluster.local".into(),
        ),
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
    let candidates = CandidateSet::new(vec![Authorization {
        reference: ResourceRef::new("", "default", "all-unauthenticated"),
        networks: strait_decisions::net::Network::all().to_vec(),
        authentication: Authentication::Unauthenticated,
    }]);
    call(version, Arc::new(request), &mut None, &candidates, false)
        .map(drop)
        .map_err(|failure| PluginError::SmokeCall {
            origin: origin.to_string(),
            reason: format!("the plugin {failure}"),
        })
}

/// One call; `headers`, when lent, are moved in for the call and back
/// out after it.
fn call(
    version: &PluginVersion<AuthzKind>,
    request: Arc<Inbound>,
    headers: &mut Option<HeaderMap>,
    candidates: &CandidateSet,
    counted: bool,
) -> Result<Decision, crate::version::CallFailure> {
    version.call(counted, |store, instance, inputs| {
        let prepared_set = inputs.get_or_prepare(store, instance, candidates)?;
        let inbound = inputs.lend(store, request.clone(), headers.take())?;
        let decision = instance.strait_authz_authorizer().call_authorize(
            &mut *store,
            client(&request),
            inbound,
            prepared_set,
        );
        *headers = inputs.reclaim(store)?;
        lift_decision(decision?, candidates)
    })
}

/// An index outside the set is the plugin's error: the call fails (and denies).
fn lift_decision(decision: wit::Decision, candidates: &CandidateSet) -> wasmtime::Result<Decision> {
    Ok(match decision {
        wit::Decision::Allow(index) => {
            let reference = usize::try_from(index)
                .ok()
                .and_then(|i| candidates.get(i))
                .map(|c| c.reference.clone())
                .ok_or_else(|| {
                    wasmtime::format_err!(
                        "it allowed candidate {index}, but the set has {} candidates",
                        candidates.len()
                    )
                })?;
            Decision::Allow(reference)
        }
        wit::Decision::AllowAs(r) => Decision::Allow(ResourceRef::new(r.group, r.kind, r.name)),
        wit::Decision::Deny(reason) => Decision::Deny(reason),
    })
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

fn client(request: &Inbound) -> wit::Client<'_> {
    wit::Client {
        tls: match &request.client_tls {
            ClientTls::Plaintext(reason) => wit::ClientTls::Plaintext(reason),
            ClientTls::TlsAnonymous => wit::ClientTls::TlsAnonymous,
            ClientTls::Mtls(id) => wit::ClientTls::Mtls(id),
        },
        ip: ip(request.client_ip),
    }
}

fn result_ref(r: &ResourceRef) -> wit::ResourceRefResult {
    wit::ResourceRefResult {
        group: r.group.to_string(),
        kind: r.kind.to_string(),
        name: r.name.to_string(),
    }
}

impl StoreState {
    fn lent(&mut self, handle: &Resource<HostInbound>) -> wasmtime::Result<&HostInbound> {
        let lent = self.table().get(handle)?;
        match lent.request {
            Some(_) => Ok(lent),
            None => Err(wasmtime::format_err!(
                "the request was read after its call ended"
            )),
        }
    }

    fn inbound(&mut self, handle: &Resource<HostInbound>) -> wasmtime::Result<&Inbound> {
        self.lent(handle)?
            .request
            .as_deref()
            .ok_or_else(|| wasmtime::format_err!("the request was read after its call ended"))
    }
}

impl wit::Host for StoreState {}

/// What the plugin reads from the request, field by field.
impl wit::HostInbound for StoreState {
    fn server(&mut self, this: Resource<HostInbound>) -> wasmtime::Result<wit::ResourceRefResult> {
        Ok(result_ref(&self.inbound(&this)?.server))
    }

    fn port(&mut self, this: Resource<HostInbound>) -> wasmtime::Result<u16> {
        Ok(self.inbound(&this)?.port)
    }

    fn protocol(&mut self, this: Resource<HostInbound>) -> wasmtime::Result<wit::Protocol> {
        Ok(match self.inbound(&this)?.protocol {
            Protocol::Unknown => wit::Protocol::Unknown,
            Protocol::Http1 => wit::Protocol::Http1,
            Protocol::Http2 => wit::Protocol::Http2,
            Protocol::Grpc => wit::Protocol::Grpc,
            Protocol::Opaque => wit::Protocol::Opaque,
            Protocol::Tls => wit::Protocol::Tls,
        })
    }

    fn route(
        &mut self,
        this: Resource<HostInbound>,
    ) -> wasmtime::Result<Option<wit::ResourceRefResult>> {
        Ok(self.inbound(&this)?.route.as_ref().map(result_ref))
    }

    fn http(&mut self, this: Resource<HostInbound>) -> wasmtime::Result<Option<wit::HttpRequest>> {
        Ok(self
            .inbound(&this)?
            .http
            .as_ref()
            .map(|h| wit::HttpRequest {
                method: h.method.clone(),
                path: h.path.clone(),
                authority: h.authority.clone(),
            }))
    }

    fn header(
        &mut self,
        this: Resource<HostInbound>,
        name: String,
    ) -> wasmtime::Result<Vec<String>> {
        let lent = self.lent(&this)?;
        if let Some(headers) = &lent.headers {
            // `HeaderMap` compares names in lower case, as they are stored.
            return Ok(headers
                .get_all(name.to_ascii_lowercase().as_str())
                .iter()
                .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
                .collect());
        }
        Ok(lent
            .request
            .iter()
            .flat_map(|r| &r.http)
            .flat_map(|h| &h.headers)
            .filter(|h| h.name.eq_ignore_ascii_case(&name))
            .map(|h| h.value.clone())
            .collect())
    }

    /// The host owns the resource and only lends it, so a plugin never drops
    /// it; if one did, it would simply be removed.
    fn drop(&mut self, this: Resource<HostInbound>) -> wasmtime::Result<()> {
        self.table().delete(this)?;
        Ok(())
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
