//! What each component may do in the API, and why.
//!
//! Every rule comes from a call the component makes through its store:
//! a watch is `list` + `watch`, a read of one object `get`, a server-side
//! apply `patch` (plus `create`, which the API server also checks when the
//! apply creates the object), a status write `patch` on the `status`
//! subresource, a delete `delete`. Cluster-wide reads get a ClusterRole;
//! everything confined to one namespace gets a Role there, narrowed to the
//! objects' names wherever the verb allows it (`list` and `watch` cannot be
//! narrowed by name, nor can a `create` by POST, whose object has no name
//! when it is authorized; a `create` by server-side apply is authorized
//! with the object's name, so it can). No rule uses a wildcard.

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
};
use std::collections::BTreeMap;
use strait_mesh::names::{
    self, CONTROL_PLANE_NAMESPACE, Component, PLUGINS_CONFIG_MAP, PLUGINS_STATUS_CONFIG_MAP,
};

use crate::meta::metadata;
use crate::object::Object;

const CORE: &str = "";
const READ: [&str; 2] = ["list", "watch"];

/// A rule granting `verbs` on `resources` of `group`, optionally only on
/// the objects named `names`.
pub fn rule(group: &str, resources: &[&str], verbs: &[&str], names: &[&str]) -> PolicyRule {
    let strings = |items: &[&str]| items.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(vec![group.to_string()]),
        resources: Some(strings(resources)),
        verbs: strings(verbs),
        resource_names: (!names.is_empty()).then(|| strings(names)),
        ..PolicyRule::default()
    }
}

/// Identity checks each proxy's ServiceAccount token with a TokenReview.
pub fn identity_cluster_rules() -> Vec<PolicyRule> {
    vec![rule(
        "authentication.k8s.io",
        &["tokenreviews"],
        &["create"],
        &[],
    )]
}

/// Destination indexes every Service, Endpoints, EndpointSlice and Pod of
/// the cluster to answer `Get` for any authority. It follows the Links
/// (in the multicluster extension's namespace, which may be created after
/// the control plane, hence a cluster rule; a Link holds no credentials)
/// and puts a Warning Event, written by server-side apply, on a Link whose
/// credentials it refuses.
pub fn destination_cluster_rules() -> Vec<PolicyRule> {
    vec![
        rule(CORE, &["services", "endpoints", "pods"], &READ, &[]),
        rule("discovery.k8s.io", &["endpointslices"], &READ, &[]),
        rule("multicluster.linkerd.io", &["links"], &READ, &[]),
        rule(CORE, &["events"], &["create", "patch"], &[]),
    ]
}

/// Destination reads its copy of each Link's credentials Secret, in the
/// control plane's namespace, by name (`get`: never `list` nor `watch`,
/// which would hand it every Secret there, the identity issuer's key among
/// them; the names are the Links', so `get` cannot be narrowed to them
/// here).
pub fn destination_namespace_rules() -> Vec<PolicyRule> {
    vec![rule(CORE, &["secrets"], &["get"], &[])]
}

/// Policy indexes Pods, Services, Linkerd's policy resources and the HTTPRoutes of
/// both groups cluster-wide, and reports a policy resource it has to
/// ignore (a Server on a port no pod declares, an AuthorizationPolicy
/// whose target does not exist, an HTTPRoute whose Server does not) with a
/// Warning Event beside it, in the resource's own namespace.
pub fn policy_cluster_rules() -> Vec<PolicyRule> {
    vec![
        // Services: outbound policies are per Service port.
        rule(CORE, &["pods", "services"], &READ, &[]),
        rule(CORE, &["events"], &["create", "patch"], &[]),
        rule(
            "policy.linkerd.io",
            &[
                "servers",
                "serverauthorizations",
                "authorizationpolicies",
                "meshtlsauthentications",
                "networkauthentications",
                "httproutes",
            ],
            &READ,
            &[],
        ),
        rule("gateway.networking.k8s.io", &["httproutes"], &READ, &[]),
    ]
}

/// Following the plugins ConfigMap, as policy (authz) and every service
/// mirror (export) do: it is watched (list and watch of the namespace's
/// ConfigMaps, which a name cannot narrow) and read, and never written:
/// only the operator (`strait plugin push`, with their own credentials)
/// writes plugins. A service mirror handles a remote cluster's data; with
/// `patch` here, a subverted one could replace the mesh's authz plugin.
///
/// Each plugin's status goes to the status ConfigMap instead, by
/// server-side apply, which creates it when missing: `get`, `create` and
/// `patch` on that name only. Kubernetes cannot narrow a `create` by POST
/// to a name (the object has none when the request is authorized), but the
/// apply is a PATCH to the object's path and its `create` check carries
/// that name, so the narrowed rule is enough and no follower can create
/// any other ConfigMap, such as a plugins ConfigMap not pushed yet. Each
/// outcome is recorded as an Event (created and updated by apply).
pub fn plugins_config_map_rules() -> Vec<PolicyRule> {
    vec![
        rule(CORE, &["configmaps"], &READ, &[]),
        rule(CORE, &["configmaps"], &["get"], &[PLUGINS_CONFIG_MAP]),
        rule(
            CORE,
            &["configmaps"],
            &["get", "create", "patch"],
            &[PLUGINS_STATUS_CONFIG_MAP],
        ),
        rule(CORE, &["events"], &["create", "patch"], &[]),
    ]
}

/// The service mirror of Link `link`, in the namespace mirrors go to
/// (any): it watches its mirror Services and the namespaces (a mirror
/// waits for its namespace), applies and deletes mirror Services, and
/// reads, applies and deletes their Endpoints (gateway mode). Federated
/// Services, which several mirrors share, are read by name and written back
/// under their resourceVersion (`get`), the cluster's own Services are
/// watched for local members (`list`, `watch`), and a member whose ports
/// differ gets a Warning Event on the federated Service, in its namespace.
pub fn service_mirror_cluster_rules() -> Vec<PolicyRule> {
    vec![
        rule(
            CORE,
            &["services"],
            &["get", "list", "watch", "create", "patch", "delete"],
            &[],
        ),
        rule(
            CORE,
            &["endpoints"],
            &["get", "create", "patch", "delete"],
            &[],
        ),
        rule(CORE, &["namespaces"], &READ, &[]),
        rule(CORE, &["events"], &["create", "patch"], &[]),
    ]
}

/// The service mirror of Link `link` beside the Link
/// ([`names::LINK_NAMESPACE`]): it watches the Links there (by namespace)
/// and reads its own, writes its own Link's status, reads its copy of the
/// Link's credentials Secret, and puts a Warning Event on its Link when
/// the Link or its credentials are refused. Its replicas elect a leader
/// through the Lease `service-mirror-write-<link>`, which each reads and
/// writes by server-side apply (creating it when missing). The plugins
/// ConfigMap it follows is in the control plane's namespace, under
/// [`plugins_config_map_rules`].
pub fn service_mirror_link_rules(link: &str) -> Vec<PolicyRule> {
    let lease = names::service_mirror_lease(link);
    let credentials = names::link_credentials(link);
    vec![
        rule("multicluster.linkerd.io", &["links"], &READ, &[]),
        rule("multicluster.linkerd.io", &["links"], &["get"], &[link]),
        rule(
            "multicluster.linkerd.io",
            &["links/status"],
            &["patch"],
            &[link],
        ),
        rule(CORE, &["secrets"], &["get"], &[&credentials]),
        rule(CORE, &["events"], &["create", "patch"], &[]),
        rule("coordination.k8s.io", &["leases"], &["create"], &[]),
        rule(
            "coordination.k8s.io",
            &["leases"],
            &["get", "patch"],
            &[&lease],
        ),
    ]
}

/// What a linked source cluster reads from this one, as the remote-access
/// account: its service mirror watches Services (and Endpoints, in
/// gateway mode) and records a MissingNamespace Event on a remote Service;
/// its destination follows Services, Endpoints, EndpointSlices and Pods
/// for remote discovery.
pub fn remote_access_cluster_rules() -> Vec<PolicyRule> {
    vec![
        rule(CORE, &["services", "endpoints", "pods"], &READ, &[]),
        rule("discovery.k8s.io", &["endpointslices"], &READ, &[]),
        rule(CORE, &["events"], &["create", "patch"], &[]),
    ]
}

/// What a linked source cluster reads of this one's control plane, by
/// name: `multicluster check` there compares the two clusters' trust
/// anchors and domains through the Link's credentials, from
/// `linkerd-identity-trust-roots` and `linkerd-config` (both public facts
/// of the mesh; no Secret).
pub fn remote_access_namespace_rules() -> Vec<PolicyRule> {
    vec![rule(
        CORE,
        &["configmaps"],
        &["get"],
        &[names::LINKERD_CONFIG, names::TRUST_ROOTS],
    )]
}

/// The name of a component's ClusterRole and ClusterRoleBinding: Linkerd's
/// `<namespace>-<workload>`, unique across installs in other namespaces.
pub fn cluster_role_name(component: &Component) -> String {
    format!("{CONTROL_PLANE_NAMESPACE}-{}", component.workload)
}

/// A ClusterRole `name` with `rules`, bound to ServiceAccount
/// `namespace/account`.
pub fn cluster_role(
    name: &str,
    rules: Vec<PolicyRule>,
    account: (&str, &str),
    labels: &BTreeMap<String, String>,
) -> [Object; 2] {
    let role = ClusterRole {
        metadata: metadata(name, None, labels),
        rules: Some(rules),
        ..ClusterRole::default()
    };
    let binding = ClusterRoleBinding {
        metadata: metadata(name, None, labels),
        role_ref: role_ref("ClusterRole", name),
        subjects: Some(vec![subject(account)]),
    };
    [role.into(), binding.into()]
}

/// A Role `name` in `namespace` with `rules`, bound to ServiceAccount
/// `account_namespace/account`.
pub fn namespaced_role(
    name: &str,
    namespace: &str,
    rules: Vec<PolicyRule>,
    account: (&str, &str),
    labels: &BTreeMap<String, String>,
) -> [Object; 2] {
    let role = Role {
        metadata: metadata(name, Some(namespace), labels),
        rules: Some(rules),
    };
    let binding = RoleBinding {
        metadata: metadata(name, Some(namespace), labels),
        role_ref: role_ref("Role", name),
        subjects: Some(vec![subject(account)]),
    };
    [role.into(), binding.into()]
}

fn role_ref(kind: &str, name: &str) -> RoleRef {
    RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: kind.into(),
        name: name.into(),
    }
}

fn subject((namespace, name): (&str, &str)) -> Subject {
    Subject {
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(namespace.into()),
        ..Subject::default()
    }
}

#[cfg(test)]
mod tests;
