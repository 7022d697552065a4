//! The export kind: lowering a remote Service and its Link into the plugin,
//! lifting the decision, and keeping the previous decision when a call fails.

use std::sync::Arc;

use strait_decisions::export::{ExportDecision, Link, MirrorExtras, RemoteService};
use strait_decisions::selector::{LabelSelector, Labels, Operator};
use wasmtime::Store;
use wasmtime::component::InstancePre;

use crate::bindings::export_world::strait::export_mode::types as wit;
use crate::bindings::export_world::{ExportPlugin as ExportInstance, ExportPluginPre};
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
    type Pre = ExportPluginPre<StoreState>;
    type Instance = ExportInstance;
    type Cache = ();

    fn pre(pre: InstancePre<StoreState>) -> wasmtime::Result<Self::Pre> {
        ExportPluginPre::new(pre)
    }

    fn instantiate(
        pre: &Self::Pre,
        store: &mut Store<StoreState>,
    ) -> wasmtime::Result<ExportInstance> {
        pre.instantiate(store)
    }
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
    };
    call(version, &service, &link, false)
        .map(drop)
        .map_err(|failure| PluginError::SmokeCall {
            origin: origin.to_string(),
            reason: format!("the plugin {failure}"),
        })
}

fn call(
    version: &PluginVersion<ExportKind>,
    service: &RemoteService,
    link: &Link,
    counted: bool,
) -> Result<ExportDecision, CallFailure> {
    let labels = label_params(&service.labels);
    let annotations = label_params(&service.annotations);
    let ports: Vec<wit::ServicePort<'_>> = service
        .ports
        .iter()
        .map(|p| wit::ServicePort {
            name: &p.name,
            protocol: &p.protocol,
            port: p.port,
            target_port: &p.target_port,
        })
        .collect();
    let remote = wit::RemoteService {
        namespace: &service.namespace,
        name: &service.name,
        labels: &labels,
        annotations: &annotations,
        ports: &ports,
        headless: service.headless,
    };
    let selector = link.selector.as_ref().map(SelectorParts::new);
    let remote_discovery = link
        .remote_discovery_selector
        .as_ref()
        .map(SelectorParts::new);
    let selector_requirements = selector.as_ref().map(SelectorParts::requirements);
    let remote_discovery_requirements = remote_discovery.as_ref().map(SelectorParts::requirements);
    let wit_link = wit::Link {
        name: &link.name,
        target_cluster_name: &link.target_cluster_name,
        selector: selector
            .as_ref()
            .zip(selector_requirements.as_deref())
            .map(|(s, r)| s.lowered(r)),
        remote_discovery_selector: remote_discovery
            .as_ref()
            .zip(remote_discovery_requirements.as_deref())
            .map(|(s, r)| s.lowered(r)),
        has_gateway: link.has_gateway,
    };
    version
        .call(counted, |store, instance, ()| {
            instance
                .strait_export_mode_exporter()
                .call_decide(store, remote, wit_link)
        })
        .map(lift_decision)
}

fn label_params(labels: &Labels) -> Vec<wit::LabelParam<'_>> {
    labels
        .iter()
        .map(|(key, value)| wit::LabelParam { key, value })
        .collect()
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
