//! The patch strategies of the built-in types strait serves, as
//! `k8s.io/api` declares them in its `patchStrategy` and `patchMergeKey`
//! struct tags.
//!
//! Only the paths that lead to a list with a strategy are written down: a
//! field missing from a table is a map that merges field by field or a list
//! that is replaced whole, which is what Kubernetes does for every list
//! without a `merge` strategy. The tables are keyed by path, not by field
//! name, because the same name means different lists in different places:
//! a Service's `spec.ports` merge by `port`, a container's `ports` by
//! `containerPort`, and an EndpointSlice's `ports` are atomic.

/// How a list field is patched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ListStrategy {
    /// Replaced whole by the patch's list (no `patchStrategy` tag).
    Atomic,
    /// `patchStrategy:"merge"`: elements are matched by the merge key; a
    /// list of scalars (no key) becomes the union of both lists.
    Merge(Option<&'static str>),
}

/// One field of a struct: its list strategy (meaningless for non-lists) and
/// the type of its value, or of its elements for a list.
#[derive(Debug)]
pub(super) struct Field {
    name: &'static str,
    strategy: ListStrategy,
    ty: Option<&'static Type>,
}

/// A struct's fields that matter to a strategic merge patch.
#[derive(Debug)]
pub(super) struct Type(&'static [Field]);

impl Type {
    /// The strategy and type of field `name`; a field not in the table is an
    /// atomic list or a plain map, with no known type below it.
    pub(super) fn field(ty: Option<&Type>, name: &str) -> (ListStrategy, Option<&'static Type>) {
        ty.and_then(|ty| ty.0.iter().find(|field| field.name == name))
            .map_or((ListStrategy::Atomic, None), |field| {
                (field.strategy, field.ty)
            })
    }
}

const fn typed(name: &'static str, ty: &'static Type) -> Field {
    Field {
        name,
        strategy: ListStrategy::Atomic,
        ty: Some(ty),
    }
}

const fn merge_by(name: &'static str, key: &'static str) -> Field {
    Field {
        name,
        strategy: ListStrategy::Merge(Some(key)),
        ty: None,
    }
}

const fn merge_typed(name: &'static str, key: &'static str, ty: &'static Type) -> Field {
    Field {
        name,
        strategy: ListStrategy::Merge(Some(key)),
        ty: Some(ty),
    }
}

const fn merge_scalars(name: &'static str) -> Field {
    Field {
        name,
        strategy: ListStrategy::Merge(None),
        ty: None,
    }
}

static OBJECT_META: Type = Type(&[
    merge_scalars("finalizers"),
    merge_by("ownerReferences", "uid"),
]);

static CONTAINER: Type = Type(&[
    merge_by("ports", "containerPort"),
    merge_by("env", "name"),
    merge_by("volumeMounts", "mountPath"),
    merge_by("volumeDevices", "devicePath"),
]);

static POD_SPEC: Type = Type(&[
    merge_by("volumes", "name"),
    merge_typed("initContainers", "name", &CONTAINER),
    merge_typed("containers", "name", &CONTAINER),
    merge_typed("ephemeralContainers", "name", &CONTAINER),
    merge_by("imagePullSecrets", "name"),
    merge_by("hostAliases", "ip"),
    merge_by("topologySpreadConstraints", "topologyKey"),
    merge_by("resourceClaims", "name"),
    merge_by("schedulingGates", "name"),
]);

static POD_STATUS: Type = Type(&[
    merge_by("conditions", "type"),
    merge_by("podIPs", "ip"),
    merge_by("hostIPs", "ip"),
    merge_by("resourceClaimStatuses", "name"),
]);

static POD_TEMPLATE_SPEC: Type = Type(&[typed("metadata", &OBJECT_META), typed("spec", &POD_SPEC)]);

/// A status whose only strategic list is `conditions`, keyed by `type`.
static CONDITIONS_STATUS: Type = Type(&[merge_by("conditions", "type")]);

static WORKLOAD_SPEC: Type = Type(&[typed("template", &POD_TEMPLATE_SPEC)]);

static JOB_TEMPLATE_SPEC: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &WORKLOAD_SPEC),
]);

static CRON_JOB_SPEC: Type = Type(&[typed("jobTemplate", &JOB_TEMPLATE_SPEC)]);

static SERVICE_SPEC: Type = Type(&[merge_by("ports", "port")]);

static NODE_SPEC: Type = Type(&[merge_scalars("podCIDRs")]);

static NODE_STATUS: Type = Type(&[
    merge_by("conditions", "type"),
    merge_by("addresses", "type"),
]);

static POD: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &POD_SPEC),
    typed("status", &POD_STATUS),
]);

static POD_TEMPLATE: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("template", &POD_TEMPLATE_SPEC),
]);

/// Deployment, StatefulSet, DaemonSet, ReplicaSet and Job: a pod template
/// under `spec.template` and conditions in the status.
static WORKLOAD: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &WORKLOAD_SPEC),
    typed("status", &CONDITIONS_STATUS),
]);

static CRON_JOB: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &CRON_JOB_SPEC),
]);

static SERVICE: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &SERVICE_SPEC),
    typed("status", &CONDITIONS_STATUS),
]);

static NAMESPACE: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("status", &CONDITIONS_STATUS),
]);

static SERVICE_ACCOUNT: Type =
    Type(&[typed("metadata", &OBJECT_META), merge_by("secrets", "name")]);

static NODE: Type = Type(&[
    typed("metadata", &OBJECT_META),
    typed("spec", &NODE_SPEC),
    typed("status", &NODE_STATUS),
]);

static MUTATING_WEBHOOK_CONFIGURATION: Type = Type(&[
    typed("metadata", &OBJECT_META),
    merge_by("webhooks", "name"),
]);

/// Kinds whose only strategic lists are in their metadata: every other list
/// they have (Endpoints subsets, EndpointSlice endpoints and ports, RBAC
/// rules and subjects, CRD versions) is atomic.
static METADATA_ONLY: Type = Type(&[typed("metadata", &OBJECT_META)]);

/// The built-in kinds a strategic merge patch is accepted for, by API group
/// and kind; every other kind (custom resources) is refused, as the API
/// server refuses it.
static KINDS: &[(&str, &str, &Type)] = &[
    ("", "Pod", &POD),
    ("", "PodTemplate", &POD_TEMPLATE),
    ("", "Service", &SERVICE),
    ("", "Namespace", &NAMESPACE),
    ("", "ServiceAccount", &SERVICE_ACCOUNT),
    ("", "Node", &NODE),
    ("", "ConfigMap", &METADATA_ONLY),
    ("", "Secret", &METADATA_ONLY),
    ("", "Endpoints", &METADATA_ONLY),
    ("", "Event", &METADATA_ONLY),
    ("apps", "Deployment", &WORKLOAD),
    ("apps", "StatefulSet", &WORKLOAD),
    ("apps", "DaemonSet", &WORKLOAD),
    ("apps", "ReplicaSet", &WORKLOAD),
    ("batch", "Job", &WORKLOAD),
    ("batch", "CronJob", &CRON_JOB),
    ("discovery.k8s.io", "EndpointSlice", &METADATA_ONLY),
    ("rbac.authorization.k8s.io", "ClusterRole", &METADATA_ONLY),
    (
        "rbac.authorization.k8s.io",
        "ClusterRoleBinding",
        &METADATA_ONLY,
    ),
    ("rbac.authorization.k8s.io", "Role", &METADATA_ONLY),
    ("rbac.authorization.k8s.io", "RoleBinding", &METADATA_ONLY),
    (
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        &METADATA_ONLY,
    ),
    (
        "admissionregistration.k8s.io",
        "MutatingWebhookConfiguration",
        &MUTATING_WEBHOOK_CONFIGURATION,
    ),
    ("coordination.k8s.io", "Lease", &METADATA_ONLY),
];

/// The patch metadata of a built-in kind, or `None` for a kind strategic
/// merge patch does not apply to.
pub(super) fn kind(group: &str, kind: &str) -> Option<&'static Type> {
    KINDS
        .iter()
        .find(|(g, k, _)| *g == group && *k == kind)
        .map(|(_, _, ty)| *ty)
}
