use super::*;
use crate::testing::config_map_writes;

fn grants(rules: &[PolicyRule], group: &str, resource: &str, verb: &str) -> Option<Vec<String>> {
    rules
        .iter()
        .find(|r| {
            r.api_groups.iter().flatten().any(|g| g == group)
                && r.resources.iter().flatten().any(|x| x == resource)
                && r.verbs.iter().any(|v| v == verb)
        })
        .map(|r| r.resource_names.clone().unwrap_or_default())
}

fn verbs(rules: &[PolicyRule]) -> Vec<String> {
    rules.iter().flat_map(|r| r.verbs.clone()).collect()
}

#[test]
fn identity_may_only_create_token_reviews() {
    let rules = identity_cluster_rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        grants(&rules, "authentication.k8s.io", "tokenreviews", "create"),
        Some(vec![])
    );
    assert_eq!(verbs(&rules), ["create"]);
}

#[test]
fn destination_and_policy_only_read_cluster_wide_but_their_events() {
    // Both write nothing cluster-wide but the Events that report the
    // resources they ignore or refuse.
    for rule in destination_cluster_rules()
        .into_iter()
        .chain(policy_cluster_rules())
    {
        let events = rule.resources.iter().flatten().all(|r| r == "events");
        for verb in &rule.verbs {
            let allowed = if events {
                verb == "create" || verb == "patch"
            } else {
                verb == "list" || verb == "watch"
            };
            assert!(allowed, "{verb} on {:?}", rule.resources);
        }
    }
    let destination = destination_cluster_rules();
    for resource in ["services", "endpoints", "pods"] {
        assert!(
            grants(&destination, "", resource, "watch").is_some(),
            "{resource}"
        );
    }
    assert!(grants(&destination, "discovery.k8s.io", "endpointslices", "list").is_some());
    assert!(grants(&destination, "", "secrets", "list").is_none());
    let policy = policy_cluster_rules();
    for resource in [
        "servers",
        "serverauthorizations",
        "authorizationpolicies",
        "meshtlsauthentications",
        "networkauthentications",
        "httproutes",
    ] {
        assert!(
            grants(&policy, "policy.linkerd.io", resource, "watch").is_some(),
            "{resource}"
        );
    }
    assert!(grants(&policy, "gateway.networking.k8s.io", "httproutes", "watch").is_some());
    assert!(grants(&policy, "", "pods", "list").is_some());
}

/// A compromised destination must not be handed every Secret of the
/// control plane's namespace (the identity issuer's key is one): it reads
/// the Secrets its Links name, one `get` at a time, and follows the Links
/// wherever they are.
#[test]
fn destination_reads_secrets_by_name_only_and_follows_the_links() {
    let rules = destination_namespace_rules();
    for verb in ["list", "watch", "create", "patch", "update", "delete"] {
        assert!(grants(&rules, "", "secrets", verb).is_none(), "{verb}");
    }
    assert_eq!(grants(&rules, "", "secrets", "get"), Some(vec![]));
    assert_eq!(verbs(&rules), ["get"]);
    let cluster = destination_cluster_rules();
    for verb in ["get", "list", "watch", "create", "patch"] {
        assert!(grants(&cluster, "", "secrets", verb).is_none(), "{verb}");
    }
    for verb in ["list", "watch"] {
        assert!(
            grants(&cluster, "multicluster.linkerd.io", "links", verb).is_some(),
            "{verb}"
        );
    }
    assert!(grants(&cluster, "multicluster.linkerd.io", "links", "patch").is_none());
    // The Warning Event about a refused Link, by server-side apply.
    assert!(grants(&cluster, "", "events", "create").is_some());
    assert!(grants(&cluster, "", "events", "patch").is_some());
    // Nothing else is written.
    for rule in &cluster {
        let writes = rule.verbs.iter().any(|v| v == "create" || v == "patch");
        if writes {
            assert_eq!(rule.resources.as_deref(), Some(&["events".to_string()][..]));
        }
    }
}

#[test]
fn followers_read_the_plugins_config_map_and_write_only_their_status() {
    let rules = plugins_config_map_rules();
    let status = || Some(vec!["strait-plugins-status".to_string()]);
    assert_eq!(
        grants(&rules, "", "configmaps", "get"),
        Some(vec!["strait-plugins".to_string()])
    );
    // Every rule granting `get` on a ConfigMap, by name.
    let got: Vec<Vec<String>> = rules
        .iter()
        .filter(|r| r.verbs.iter().any(|v| v == "get"))
        .map(|r| r.resource_names.clone().unwrap_or_default())
        .collect();
    assert_eq!(
        got,
        [
            vec!["strait-plugins".to_string()],
            vec!["strait-plugins-status".to_string()]
        ]
    );
    assert_eq!(grants(&rules, "", "configmaps", "patch"), status());
    // Server-side apply creates the status when missing; the check of
    // that create carries the name, so it is narrowed too.
    assert_eq!(grants(&rules, "", "configmaps", "create"), status());
    assert!(grants(&rules, "", "configmaps", "update").is_none());
    assert!(grants(&rules, "", "configmaps", "delete").is_none());
    assert!(grants(&rules, "", "configmaps", "watch").is_some());
    assert!(grants(&rules, "", "events", "create").is_some());
    assert!(grants(&rules, "", "events", "patch").is_some());
}

/// A service mirror handles a remote cluster's data, policy hands the
/// authz plugin to every proxy: neither may write the plugins ConfigMap
/// (a subverted mirror would otherwise replace the mesh's authz plugin).
#[test]
fn neither_policy_nor_a_service_mirror_may_write_the_plugins_config_map() {
    let followers = [
        ("policy (cluster)", policy_cluster_rules()),
        ("policy (namespace)", plugins_config_map_rules()),
        ("service mirror (cluster)", service_mirror_cluster_rules()),
        ("service mirror (link)", service_mirror_link_rules("target")),
    ];
    for (who, rules) in followers {
        for rule in &rules {
            let writes = config_map_writes(rule, PLUGINS_CONFIG_MAP);
            assert!(writes.is_empty(), "{who} may {writes:?} it: {rule:?}");
        }
    }
    // Both still follow it, by the same rules.
    let rules = plugins_config_map_rules();
    assert!(grants(&rules, "", "configmaps", "watch").is_some());
    assert_eq!(
        grants(&rules, "", "configmaps", "get"),
        Some(vec![PLUGINS_CONFIG_MAP.to_string()])
    );
    // The check itself sees a write, named or not.
    let named = rule(
        CORE,
        &["configmaps"],
        &["get", "patch"],
        &[PLUGINS_CONFIG_MAP],
    );
    assert_eq!(config_map_writes(&named, PLUGINS_CONFIG_MAP), ["patch"]);
    let unnamed = rule(CORE, &["configmaps"], &["create", "list"], &[]);
    assert_eq!(config_map_writes(&unnamed, PLUGINS_CONFIG_MAP), ["create"]);
    let other = rule(
        CORE,
        &["configmaps"],
        &["patch"],
        &[PLUGINS_STATUS_CONFIG_MAP],
    );
    assert!(config_map_writes(&other, PLUGINS_CONFIG_MAP).is_empty());
}

#[test]
fn a_service_mirror_touches_only_its_own_link_lease_and_credentials() {
    let rules = service_mirror_link_rules("target");
    let only = |names: &[&str]| Some(names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
    assert_eq!(
        grants(&rules, "coordination.k8s.io", "leases", "get"),
        only(&["service-mirror-write-target"])
    );
    assert_eq!(
        grants(&rules, "coordination.k8s.io", "leases", "patch"),
        only(&["service-mirror-write-target"])
    );
    assert!(grants(&rules, "coordination.k8s.io", "leases", "update").is_none());
    assert!(grants(&rules, "coordination.k8s.io", "leases", "delete").is_none());
    assert!(grants(&rules, "coordination.k8s.io", "leases", "create").is_some());
    assert_eq!(
        grants(&rules, "", "secrets", "get"),
        only(&["cluster-credentials-target"])
    );
    assert!(grants(&rules, "", "secrets", "list").is_none());
    // A refused Link, or refused credentials, is told on the Link.
    assert!(grants(&rules, "", "events", "create").is_some());
    assert!(grants(&rules, "", "events", "patch").is_some());
    assert_eq!(
        grants(&rules, "multicluster.linkerd.io", "links/status", "patch"),
        only(&["target"])
    );
    assert!(grants(&rules, "multicluster.linkerd.io", "links", "patch").is_none());
    assert!(grants(&rules, "multicluster.linkerd.io", "links", "watch").is_some());
    // No ConfigMap beside the Link: the plugins are in the control plane's
    // namespace.
    assert!(grants(&rules, "", "configmaps", "get").is_none());
}

#[test]
fn a_service_mirror_writes_only_services_endpoints_and_events_anywhere() {
    let rules = service_mirror_cluster_rules();
    for verb in ["create", "patch", "delete"] {
        assert!(grants(&rules, "", "services", verb).is_some(), "{verb}");
        assert!(grants(&rules, "", "endpoints", verb).is_some(), "{verb}");
        assert!(grants(&rules, "", "namespaces", verb).is_none(), "{verb}");
    }
    assert!(grants(&rules, "", "namespaces", "watch").is_some());
    // Federated Services are read by name and written back; port conflicts
    // are told on them.
    assert!(grants(&rules, "", "services", "get").is_some());
    assert!(grants(&rules, "", "events", "create").is_some());
    assert!(grants(&rules, "", "events", "delete").is_none());
    assert!(grants(&rules, "", "secrets", "get").is_none());
}

#[test]
fn linked_clusters_read_only_the_public_facts_of_the_control_plane() {
    let rules = remote_access_namespace_rules();
    assert_eq!(
        grants(&rules, "", "configmaps", "get"),
        Some(vec![
            "linkerd-config".to_string(),
            "linkerd-identity-trust-roots".to_string()
        ])
    );
    assert_eq!(verbs(&rules), ["get"]);
}

#[test]
fn linked_clusters_read_and_record_events_but_write_nothing_else() {
    let rules = remote_access_cluster_rules();
    for rule in &rules {
        let writes = rule.verbs.iter().any(|v| v != "list" && v != "watch");
        if writes {
            assert_eq!(rule.resources.as_deref(), Some(&["events".to_string()][..]));
        }
    }
    for resource in ["services", "endpoints", "pods"] {
        assert!(
            grants(&rules, "", resource, "watch").is_some(),
            "{resource}"
        );
    }
    assert!(grants(&rules, "discovery.k8s.io", "endpointslices", "watch").is_some());
    assert!(grants(&rules, "", "secrets", "list").is_none());
}
