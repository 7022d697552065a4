//! The export kind: lowering a remote Service and its Link into the plugin,
//! lifting the decision, and keeping the previous decision when a call fails.
//!
//! Two versions of the contract are served: the current one (0.2), which
//! also decides federated members, and 0.1, whose plugins keep loading: their
//! export decisions are lifted into the same types, and their federated
//! members are decided by Linkerd's rule ([`native::decide_federated`]).

use std::sync::Arc;

use strait_decisions::export::{
    self as native, ExportDecision, FederatedDecision, Link, RemoteService,
};
use strait_decisions::selector::LabelSelector;
use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::bindings::{export_world, export_world_v0_1};
use crate::error::PluginError;
use crate::host::PluginHost;
use crate::slot::PluginSlot;
use crate::source::PluginBytes;
use crate::state::StoreState;
use crate::version::{CallFailure, CallOutcome, Kind, PluginKind, PluginVersion, VersionInfo};

/// Label and annotation prefixes the service mirror owns; extras a plugin
/// returns under them are dropped.
const RESERVED_PREFIXES: [&str; 2] = ["mirror.linkerd.io/", "multicluster.linkerd.io/"];

pub(crate) struct ExportKind;

impl Kind for ExportKind {
    const KIND: PluginKind = PluginKind::Export;
    type Pre = ExportPre;
    type Instance = ExportInstance;
    type Cache = ();

    /// The current contract first; a component that does not implement it
    /// is tried as 0.1, and refused with the current contract's reason.
    fn pre(pre: InstancePre<StoreState>) -> wasmtime::Result<Self::Pre> {
        match export_world::ExportPluginPre::new(pre.clone()) {
            Ok(current) => Ok(ExportPre::Current(current)),
            Err(err) => export_world_v0_1::ExportPluginPre::new(pre)
                .map(ExportPre::V0_1)
                .map_err(|_| err),
        }
    }

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<StoreState>,
    ) -> wasmtime::Result<ExportInstance> {
        match pre {
            ExportPre::Current(pre) => pre.instantiate(store).map(ExportInstance::Current),
            ExportPre::V0_1(pre) => pre.instantiate(store).map(ExportInstance::V0_1),
        }
    }
}

/// A validated export plugin, by the contract version it was built against.
pub(crate) enum ExportPre {
    Current(export_world::ExportPluginPre<StoreState>),
    V0_1(export_world_v0_1::ExportPluginPre<StoreState>),
}

/// An instance of an export plugin, by contract version.
pub(crate) enum ExportInstance {
    Current(export_world::ExportPlugin),
    V0_1(export_world_v0_1::ExportPlugin),
}

/// The answer for one remote Service.
#[derive(Clone, Debug)]
pub struct ExportVerdict {
    /// What to do with the Service. After a failed call, the previous decision
    /// (or not exported, if there was none).
    pub decision: ExportDecision,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// The version that answered.
    pub version: Arc<VersionInfo>,
}

/// The answer on one remote Service's federated membership.
#[derive(Clone, Debug)]
pub struct FederatedVerdict {
    /// Whether the Service joins the federated Service. After a failed call,
    /// the previous decision (or not a member, if there was none).
    pub decision: FederatedDecision,
    /// How the call ended.
    pub outcome: CallOutcome,
    /// The version that answered.
    pub version: Arc<VersionInfo>,
}

/// The export plugin of a service mirror.
pub struct ExportPlugin {
    slot: PluginSlot<ExportKind>,
}

impl ExportPlugin {
    /// Validates `initial` (compile, world, smoke call) and makes it the active
    /// version of the slot `name` (the `plugin` metric label).
    pub fn new(host: &PluginHost, name: &str, initial: &PluginBytes) -> Result<Self, PluginError> {
        Ok(ExportPlugin {
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

    /// Decides how `service` is exported through `link`. `previous` is the
    /// decision in force for this Service; it stands if the call fails, so a
    /// broken plugin never unexports (or newly exports) anything.
    pub fn decide(
        &self,
        service: &RemoteService,
        link: &Link,
        previous: Option<&ExportDecision>,
    ) -> ExportVerdict {
        let version = self.slot.current();
        let (decision, outcome) = match call(&version, service, link, true) {
            Ok(decision) => (decision, CallOutcome::Ok),
            Err(failure) => {
                let decision = previous.cloned().unwrap_or_else(|| {
                    ExportDecision::NotExported(format!(
                        "export plugin {} {failure}",
                        version.info.label
                    ))
                });
                (decision, failure.outcome())
            }
        };
        ExportVerdict {
            decision,
            outcome,
            version: version.info.clone(),
        }
    }

    /// Decides whether `service` joins the federated Service through `link`.
    /// `previous` stands if the call fails, as for [`ExportPlugin::decide`].
    /// A plugin of contract 0.1 is not asked: Linkerd's rule decides.
    pub fn federate(
        &self,
        service: &RemoteService,
        link: &Link,
        previous: Option<&FederatedDecision>,
    ) -> FederatedVerdict {
        let version = self.slot.current();
        let (decision, outcome) = match call_federate(&version, service, link, true) {
            Ok(decision) => (decision, CallOutcome::Ok),
            Err(failure) => {
                let decision = previous.cloned().unwrap_or_else(|| {
                    FederatedDecision::NotMember(format!(
                        "export plugin {} {failure}",
                        version.info.label
                    ))
                });
                (decision, failure.outcome())
            }
        };
        FederatedVerdict {
            decision,
            outcome,
            version: version.info.clone(),
        }
    }
}

/// The smoke call: the guide's `bb` Service through a default Link.
pub(crate) fn smoke(version: &PluginVersion<ExportKind>, origin: &str) -> Result<(), PluginError> {
    let service = RemoteService {
        namespace: "smoke".into(),
        name: "smoke".into(),
        labels: [(
            "mirror.linkerd.io/exported".to_string(),
            "remote-discovery".to_string(),
        )]
        .into(),
        ..Default::default()
    };
    let link = Link {
        name: "smoke".into(),
        target_cluster_name: "smoke".into(),
        selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/exported",
            "true",
        )])),
        remote_discovery_selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/exported",
            "remote-discovery",
        )])),
        has_gateway: false,
        federated_selector: Some(LabelSelector::from_labels([(
            "mirror.linkerd.io/federated",
            "member",
        )])),
    };
    call(version, &service, &link, false)
        .and_then(|_| call_federate(version, &service, &link, false))
        .map(drop)
        .map_err(|failure| PluginError::SmokeCall {
            origin: origin.to_string(),
            reason: format!("the plugin {failure}"),
        })
}

/// Lowering and lifting for one version of the contract's types; the two
/// versions share every type but the Link's federated selector and the
/// federation answer, so one definition serves both.
macro_rules! contract_types {
    ($wit:path) => {
        use strait_decisions::export::{ExportDecision, MirrorExtras, RemoteService};
        use strait_decisions::selector::{LabelSelector, Labels, Operator};
        use $wit as wit;

        use super::RESERVED_PREFIXES;

        fn label_params(labels: &Labels) -> Vec<wit::LabelParam<'_>> {
            labels
                .iter()
                .map(|(key, value)| wit::LabelParam { key, value })
                .collect()
        }

        /// The owned pieces a borrowed WIT remote Service points into.
        struct ServiceParts<'a> {
            service: &'a RemoteService,
            labels: Vec<wit::LabelParam<'a>>,
            annotations: Vec<wit::LabelParam<'a>>,
            ports: Vec<wit::ServicePort<'a>>,
        }

        impl<'a> ServiceParts<'a> {
            fn new(service: &'a RemoteService) -> Self {
                ServiceParts {
                    service,
                    labels: label_params(&service.labels),
                    annotations: label_params(&service.annotations),
                    ports: service
                        .ports
                        .iter()
                        .map(|p| wit::ServicePort {
                            name: &p.name,
                            protocol: &p.protocol,
                            port: p.port,
                            target_port: &p.target_port,
                        })
                        .collect(),
                }
            }

            fn lowered(&self) -> wit::RemoteService<'_> {
                wit::RemoteService {
                    namespace: &self.service.namespace,
                    name: &self.service.name,
                    labels: &self.labels,
                    annotations: &self.annotations,
                    ports: &self.ports,
                    headless: self.service.headless,
                }
            }
        }

        /// The owned pieces a borrowed WIT selector points into.
        struct SelectorParts<'a> {
            selector: &'a LabelSelector,
            labels: Vec<wit::LabelParam<'a>>,
            values: Vec<Vec<&'a str>>,
        }

        impl<'a> SelectorParts<'a> {
            fn new(selector: &'a LabelSelector) -> Self {
                SelectorParts {
                    selector,
                    labels: label_params(&selector.match_labels),
                    values: selector
                        .match_expressions
                        .iter()
                        .map(|r| r.values.iter().map(String::as_str).collect())
                        .collect(),
                }
            }

            fn requirements(&self) -> Vec<wit::SelectorRequirement<'_>> {
                self.selector
                    .match_expressions
                    .iter()
                    .zip(&self.values)
                    .map(|(r, values)| wit::SelectorRequirement {
                        key: &r.key,
                        operator: match r.operator {
                            Operator::In => wit::SelectorOperator::In,
                            Operator::NotIn => wit::SelectorOperator::NotIn,
                            Operator::Exists => wit::SelectorOperator::Exists,
                            Operator::DoesNotExist => wit::SelectorOperator::DoesNotExist,
                        },
                        values,
                    })
                    .collect()
            }
        }

        impl<'a> SelectorParts<'a> {
            fn lowered<'b>(
                &'b self,
                requirements: &'b [wit::SelectorRequirement<'b>],
            ) -> wit::LabelSelector<'b> {
                wit::LabelSelector {
                    match_labels: &self.labels,
                    match_expressions: requirements,
                }
            }
        }

        /// A Link's selector, absent or lowered over its owned pieces.
        fn lower<'b>(
            parts: Option<&'b SelectorParts<'b>>,
            requirements: Option<&'b [wit::SelectorRequirement<'b>]>,
        ) -> Option<wit::LabelSelector<'b>> {
            parts.zip(requirements).map(|(s, r)| s.lowered(r))
        }

        fn lift_decision(decision: wit::Decision) -> ExportDecision {
            match decision {
                wit::Decision::NotExported(reason) => ExportDecision::NotExported(reason),
                wit::Decision::Gateway(extras) => ExportDecision::Gateway(lift_extras(extras)),
                wit::Decision::RemoteDiscovery(extras) => {
                    ExportDecision::RemoteDiscovery(lift_extras(extras))
                }
            }
        }

        fn lift_extras(extras: wit::MirrorExtras) -> MirrorExtras {
            let keep = |l: wit::LabelResult| {
                if RESERVED_PREFIXES.iter().any(|p| l.key.starts_with(p)) {
                    tracing::debug!(key = %l.key, "export plugin returned a reserved key; ignored");
                    None
                } else {
                    Some((l.key, l.value))
                }
            };
            MirrorExtras {
                labels: extras.labels.into_iter().filter_map(keep).collect(),
                annotations: extras.annotations.into_iter().filter_map(keep).collect(),
            }
        }
    };
}

fn call(
    version: &PluginVersion<ExportKind>,
    service: &RemoteService,
    link: &Link,
    counted: bool,
) -> Result<ExportDecision, CallFailure> {
    version.call(counted, |store, instance, ()| match instance {
        ExportInstance::Current(instance) => current::decide(store, instance, service, link),
        ExportInstance::V0_1(instance) => v0_1::decide(store, instance, service, link),
    })
}

/// Asks about federated membership; a plugin of contract 0.1 cannot answer,
/// so Linkerd's rule does, without a call.
fn call_federate(
    version: &PluginVersion<ExportKind>,
    service: &RemoteService,
    link: &Link,
    counted: bool,
) -> Result<FederatedDecision, CallFailure> {
    if let ExportPre::V0_1(_) = version.pre() {
        return Ok(native::decide_federated(service, link));
    }
    version.call(counted, |store, instance, ()| match instance {
        ExportInstance::Current(instance) => current::federate(store, instance, service, link),
        ExportInstance::V0_1(_) => Ok(native::decide_federated(service, link)),
    })
}

/// The current contract (0.2).
mod current {
    use strait_decisions::export::{FederatedDecision, Link};
    use wasmtime::Store;

    use crate::bindings::export_world::ExportPlugin;
    use crate::bindings::export_world::exports::strait::export_mode::exporter::Guest;
    use crate::state::StoreState;

    contract_types!(crate::bindings::export_world::strait::export_mode::types);

    pub(super) fn decide(
        store: &mut Store<StoreState>,
        instance: &ExportPlugin,
        service: &RemoteService,
        link: &Link,
    ) -> wasmtime::Result<ExportDecision> {
        lowered(instance, service, link, |exporter, service, link| {
            exporter
                .call_decide(store, service, link)
                .map(lift_decision)
        })
    }

    pub(super) fn federate(
        store: &mut Store<StoreState>,
        instance: &ExportPlugin,
        service: &RemoteService,
        link: &Link,
    ) -> wasmtime::Result<FederatedDecision> {
        lowered(instance, service, link, |exporter, service, link| {
            Ok(match exporter.call_federate(store, service, link)? {
                wit::Federation::NotFederated(reason) => FederatedDecision::NotMember(reason),
                wit::Federation::Federated(extras) => {
                    FederatedDecision::Member(lift_extras(extras))
                }
            })
        })
    }

    /// Lowers the Service and the Link (borrowing, copying nothing) for `f`.
    fn lowered<R>(
        instance: &ExportPlugin,
        service: &RemoteService,
        link: &Link,
        f: impl FnOnce(&Guest, wit::RemoteService<'_>, wit::Link<'_>) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        let service = ServiceParts::new(service);
        let selector = link.selector.as_ref().map(SelectorParts::new);
        let remote_discovery = link
            .remote_discovery_selector
            .as_ref()
            .map(SelectorParts::new);
        let federated = link.federated_selector.as_ref().map(SelectorParts::new);
        let selector_requirements = selector.as_ref().map(SelectorParts::requirements);
        let remote_discovery_requirements =
            remote_discovery.as_ref().map(SelectorParts::requirements);
        let federated_requirements = federated.as_ref().map(SelectorParts::requirements);
        let wit_link = wit::Link {
            name: &link.name,
            target_cluster_name: &link.target_cluster_name,
            selector: lower(selector.as_ref(), selector_requirements.as_deref()),
            remote_discovery_selector: lower(
                remote_discovery.as_ref(),
                remote_discovery_requirements.as_deref(),
            ),
            has_gateway: link.has_gateway,
            federated_selector: lower(federated.as_ref(), federated_requirements.as_deref()),
        };
        f(
            instance.strait_export_mode_exporter(),
            service.lowered(),
            wit_link,
        )
    }
}

/// Contract 0.1: export decisions only.
mod v0_1 {
    use strait_decisions::export::Link;
    use wasmtime::Store;

    use crate::bindings::export_world_v0_1::ExportPlugin;
    use crate::state::StoreState;

    contract_types!(crate::bindings::export_world_v0_1::strait::export_mode::types);

    pub(super) fn decide(
        store: &mut Store<StoreState>,
        instance: &ExportPlugin,
        service: &RemoteService,
        link: &Link,
    ) -> wasmtime::Result<ExportDecision> {
        let service = ServiceParts::new(service);
        let selector = link.selector.as_ref().map(SelectorParts::new);
        let remote_discovery = link
            .remote_discovery_selector
            .as_ref()
            .map(SelectorParts::new);
        let selector_requirements = selector.as_ref().map(SelectorParts::requirements);
        let remote_discovery_requirements =
            remote_discovery.as_ref().map(SelectorParts::requirements);
        let wit_link = wit::Link {
            name: &link.name,
            target_cluster_name: &link.target_cluster_name,
            selector: lower(selector.as_ref(), selector_requirements.as_deref()),
            remote_discovery_selector: lower(
                remote_discovery.as_ref(),
                remote_discovery_requirements.as_deref(),
            ),
            has_gateway: link.has_gateway,
        };
        instance
            .strait_export_mode_exporter()
            .call_decide(store, service.lowered(), wit_link)
            .map(lift_decision)
    }
}
