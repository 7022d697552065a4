//! What a federated Service should look like as members join and leave: its
//! discovery annotations, and the metadata and ports of the member it takes
//! them from, as Linkerd's service mirror writes them. Plain functions over
//! Services, so every rule is tested without a store.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use strait_api::labels::{self, RemoteMember};
use strait_decisions::export::MirrorExtras;

/// One member of a federated Service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Member {
    /// This cluster's Service of that name (local discovery).
    Local(String),
    /// A linked cluster's Service (remote discovery).
    Remote(RemoteMember),
}

impl Member {
    /// The member Service's name, which names the federated Service.
    pub(crate) fn service(&self) -> &str {
        match self {
            Member::Local(service) => service,
            Member::Remote(member) => &member.service,
        }
    }
}

impl std::fmt::Display for Member {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Member::Local(service) => write!(f, "{service} (local)"),
            Member::Remote(member) => write!(f, "{member}"),
        }
    }
}

/// What the member whose metadata the federated Service carries gives it.
pub(crate) struct Source<'a> {
    /// The member Service.
    pub(crate) service: &'a Service,
    /// The export plugin's extras for it.
    pub(crate) extras: &'a MirrorExtras,
    /// Whether a label of the member stays off the federated Service
    /// (`mirror.linkerd.io/*` always, and a Link's `excludedLabels`).
    pub(crate) excludes_label: &'a (dyn Fn(&str) -> bool + Sync),
    /// Whether an annotation stays off it.
    pub(crate) excludes_annotation: &'a (dyn Fn(&str) -> bool + Sync),
}

/// Annotations Linkerd never copies: topology hints do not span clusters.
const NOT_COPIED: [&str; 2] = [
    "service.kubernetes.io/topology-aware-hints",
    "service.kubernetes.io/topology-mode",
];

/// The members a federated Service lists: its local member, if any, and its
/// remote members in order.
pub(crate) fn members_of(federated: &Service) -> (Option<String>, Vec<RemoteMember>) {
    let annotations = federated.metadata.annotations.as_ref();
    let local = annotations
        .and_then(|a| a.get(labels::LOCAL_DISCOVERY))
        .filter(|s| !s.is_empty())
        .cloned();
    let remote = annotations
        .and_then(|a| a.get(labels::REMOTE_DISCOVERY))
        .map(|list| labels::remote_discovery_members(list).0)
        .unwrap_or_default();
    (local, remote)
}

/// Whether a Service is a federated Service: it names members to discover.
pub(crate) fn is_federated(service: &Service) -> bool {
    let annotations = service.metadata.annotations.as_ref();
    annotations.is_some_and(|a| {
        a.contains_key(labels::LOCAL_DISCOVERY) || a.contains_key(labels::REMOTE_DISCOVERY)
    })
}

/// Whether `federated` lists `member`.
pub(crate) fn lists(federated: &Service, member: &Member) -> bool {
    let (local, remote) = members_of(federated);
    match member {
        Member::Local(service) => local.as_deref() == Some(service.as_str()),
        Member::Remote(member) => remote.contains(member),
    }
}

/// Whether `member` gives the federated Service its metadata and ports:
/// Linkerd's rule, the local member always, else the member whose Link is
/// oldest (`older(cluster)` says whether another member cluster's Link is
/// older than this member's); the first member of a new Service too.
pub(crate) fn is_source(
    existing: Option<&Service>,
    member: &Member,
    older: impl Fn(&str) -> bool,
) -> bool {
    let Some(existing) = existing else {
        return true;
    };
    let Member::Remote(me) = member else {
        return true;
    };
    let (local, remote) = members_of(existing);
    if local.is_some() {
        return false;
    }
    !remote
        .iter()
        .any(|other| other.cluster != me.cluster && older(&other.cluster))
}

/// The federated Service once `member` joined `existing` (`None`: it does
/// not exist yet and is created, named after the member). With a `source`,
/// its labels, annotations and ports replace the Service's; the discovery
/// annotations are kept either way.
pub(crate) fn joined(
    existing: Option<&Service>,
    namespace: &str,
    member: &Member,
    source: Option<&Source<'_>>,
) -> Service {
    let mut federated = existing.map(body).unwrap_or_else(|| Service {
        metadata: ObjectMeta {
            name: Some(labels::federated_service_name(member.service())),
            namespace: Some(namespace.to_string()),
            ..Default::default()
        },
        spec: Some(ServiceSpec::default()),
        ..Default::default()
    });
    if let Some(source) = source {
        let kept: BTreeMap<String, String> = federated
            .metadata
            .annotations
            .iter()
            .flatten()
            .filter(|(k, _)| *k == labels::LOCAL_DISCOVERY || *k == labels::REMOTE_DISCOVERY)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        federated.metadata.labels = Some(source_labels(source));
        let mut annotations = source_annotations(source);
        annotations.extend(kept);
        federated.metadata.annotations = Some(annotations);
        federated.spec = Some(ServiceSpec {
            ports: Some(ports(source.service)),
            ..Default::default()
        });
    }
    let labels_map = federated.metadata.labels.get_or_insert_with(BTreeMap::new);
    labels_map.insert(labels::MIRRORED_SERVICE.into(), "true".into());
    let annotations = federated
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    match member {
        Member::Local(service) => {
            annotations.insert(labels::LOCAL_DISCOVERY.into(), service.clone());
        }
        Member::Remote(me) => {
            let list = annotations
                .get(labels::REMOTE_DISCOVERY)
                .cloned()
                .unwrap_or_default();
            let (mut members, _) = labels::remote_discovery_members(&list);
            if !members.contains(me) {
                members.push(me.clone());
            }
            annotations.insert(labels::REMOTE_DISCOVERY.into(), join_members(&members));
        }
    }
    federated
}

/// The federated Service once `member` left it; `None` when no member is
/// left, and the Service goes.
pub(crate) fn left(existing: &Service, member: &Member) -> Option<Service> {
    let mut federated = body(existing);
    let annotations = federated
        .metadata
        .annotations
        .get_or_insert_with(BTreeMap::new);
    match member {
        Member::Local(_) => {
            annotations.remove(labels::LOCAL_DISCOVERY);
        }
        Member::Remote(me) => {
            let list = annotations
                .get(labels::REMOTE_DISCOVERY)
                .cloned()
                .unwrap_or_default();
            let (members, _) = labels::remote_discovery_members(&list);
            let rest: Vec<RemoteMember> = members.into_iter().filter(|m| m != me).collect();
            if rest.is_empty() {
                annotations.remove(labels::REMOTE_DISCOVERY);
            } else {
                annotations.insert(labels::REMOTE_DISCOVERY.into(), join_members(&rest));
            }
        }
    }
    let (local, remote) = members_of(&federated);
    (local.is_some() || !remote.is_empty()).then_some(federated)
}

/// How `member`'s ports differ from the federated Service's, one sentence
/// each; empty when they agree. The federated Service resolves each of its
/// ports on every member by number, so a port the member lacks, one it
/// names or speaks otherwise, or one it has that the Service does not
/// declare all mean its clients do not reach this member as the others.
pub(crate) fn port_conflicts(federated: &Service, member: &Service) -> Vec<String> {
    let theirs = ports(federated);
    let mine = ports(member);
    let protocol = |p: &ServicePort| p.protocol.clone().unwrap_or_else(|| "TCP".into());
    let name = |p: &ServicePort| p.name.clone().unwrap_or_default();
    let mut conflicts = Vec::new();
    for port in &theirs {
        match mine.iter().find(|m| m.port == port.port) {
            None => conflicts.push(format!(
                "port {} of the federated service is missing",
                port.port
            )),
            Some(m) if protocol(m) != protocol(port) => conflicts.push(format!(
                "port {} is {} here and {} on the federated service",
                port.port,
                protocol(m),
                protocol(port)
            )),
            Some(m) if name(m) != name(port) => conflicts.push(format!(
                "port {} is named {:?} here and {:?} on the federated service",
                port.port,
                name(m),
                name(port)
            )),
            Some(_) => {}
        }
    }
    for m in &mine {
        if !theirs.iter().any(|p| p.port == m.port) {
            conflicts.push(format!(
                "port {} is not a port of the federated service",
                m.port
            ));
        }
    }
    conflicts
}

/// Whether writing `desired` over `existing` would change nothing.
pub(crate) fn unchanged(existing: &Service, desired: &Service) -> bool {
    let labels = |s: &Service| s.metadata.labels.clone().unwrap_or_default();
    let annotations = |s: &Service| s.metadata.annotations.clone().unwrap_or_default();
    labels(existing) == labels(desired)
        && annotations(existing) == annotations(desired)
        && ports(existing) == ports(desired)
}

/// What the mirror writes of a federated Service, from a stored one: its
/// name, labels, annotations and ports, and its resourceVersion as the
/// write's precondition. Server-managed fields stay out of the write.
pub(crate) fn body(stored: &Service) -> Service {
    Service {
        metadata: ObjectMeta {
            name: stored.metadata.name.clone(),
            namespace: stored.metadata.namespace.clone(),
            labels: stored.metadata.labels.clone(),
            annotations: stored.metadata.annotations.clone(),
            resource_version: stored.metadata.resource_version.clone(),
            ..Default::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(ports(stored)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn join_members(members: &[RemoteMember]) -> String {
    members
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn source_labels(source: &Source<'_>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = source
        .service
        .metadata
        .labels
        .iter()
        .flatten()
        .filter(|(k, _)| !(source.excludes_label)(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(source.extras.labels.clone());
    out
}

fn source_annotations(source: &Source<'_>) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = source
        .service
        .metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()) && !(source.excludes_annotation)(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.extend(source.extras.annotations.clone());
    out
}

/// A Service's ports as a mirror copies them: name, protocol, port and
/// target port (node ports mean nothing in another cluster).
fn ports(service: &Service) -> Vec<ServicePort> {
    service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_ref())
        .into_iter()
        .flatten()
        .map(|p| ServicePort {
            name: p.name.clone(),
            protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
            port: p.port,
            target_port: p.target_port.clone(),
            ..Default::default()
        })
        .collect()
}
