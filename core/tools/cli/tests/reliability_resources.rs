//! Bad resources applied to a running mesh: `strait local up` of the
//! pod-to-pod example with the guide's traffic running, then resources the
//! API refuses (YAML that does not parse, a MeshTLSAuthentication with no
//! identities, which its CRD's schema forbids), Links the CRD accepts but
//! the service mirror cannot read (missing fields, a bad selector operator),
//! and resources that are valid but point at nothing (a Server on a port
//! name no container has, an AuthorizationPolicy whose target does not
//! exist), each with `strait --context east apply -f -`. The user gets a
//! clear error naming the object and the field, or a warning naming the
//! resource and what is wrong while it authorizes nothing, as Linkerd's
//! does; bb keeps serving slow-cooker at 100% with slow-cooker-evil
//! refused, and the guide's own policy objects are unchanged.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::time::Duration;

use guide::{Workspace, assert_rate, rate, text};

/// The rate each of the example's clients sends at.
const QPS: f64 = 10.0;
/// The clients sleep 5 s before they start, then a full 15 s window.
const SETTLE: Duration = Duration::from_secs(22);

/// bb in east serves slow-cooker at 100% and refuses slow-cooker-evil,
/// over the last 15 s.
fn assert_undisturbed(ws: &Workspace, what: &str) {
    let stat = ws.viz("east", "stat", "15s", &[]);
    let bb = stat
        .row("NAME", "bb")
        .unwrap_or_else(|| panic!("{what}: no bb in {stat:?}"));
    assert_eq!(bb["SUCCESS"], "100.00%", "{what}: {bb:?}");
    assert_rate(&bb["RPS"], QPS, 0.15, what);
    let authz = ws.viz("east", "authz", "15s", &[]);
    let admitted = authz
        .row("AUTHORIZATION", "authorizationpolicy/bb-authz")
        .unwrap_or_else(|| panic!("{what}: no bb-authz row in {authz:?}"));
    assert_rate(&admitted["RPS"], QPS, 0.15, what);
    assert_eq!(rate(&admitted["UNAUTHORIZED"]), 0.0, "{what}: {admitted:?}");
    let refused = authz
        .row("AUTHORIZATION", "")
        .unwrap_or_else(|| panic!("{what}: slow-cooker-evil is no longer refused: {authz:?}"));
    assert_rate(&refused["UNAUTHORIZED"], QPS, 0.15, what);
    for row in &authz.rows {
        let known = ["authorizationpolicy/bb-authz", ""].contains(&row["AUTHORIZATION"].as_str());
        assert!(known, "{what}: an authorization appeared: {row:?}");
    }
}

/// The guide's policy objects in east, without the fields the server
/// rewrites, to compare before and after.
fn policy_objects(ws: &Workspace) -> Vec<serde_json::Value> {
    let mut objects = Vec::new();
    for kind in [
        "server",
        "authorizationpolicy",
        "meshtlsauthentication",
        "service",
        "deployment",
    ] {
        let out = ws.ok(&[
            "--context",
            "east",
            "-n",
            "mc-demo",
            "get",
            kind,
            "-o",
            "json",
        ]);
        let list: serde_json::Value = serde_json::from_str(&out).unwrap();
        for mut item in list["items"].as_array().cloned().unwrap_or_default() {
            if let Some(metadata) = item["metadata"].as_object_mut() {
                metadata.remove("managedFields");
            }
            if let Some(object) = item.as_object_mut() {
                object.remove("status");
            }
            objects.push(item);
        }
    }
    objects
}

/// `strait --context east apply -f -` of `yaml`: exit status, stdout, stderr.
fn apply(ws: &Workspace, yaml: &str) -> (bool, String, String) {
    let out = ws.strait(&["--context", "east", "apply", "-f", "-"], Some(yaml));
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// Asserts `yaml` is refused with an error containing every one of `words`.
fn assert_refused(ws: &Workspace, what: &str, yaml: &str, words: &[&str]) {
    let (ok, stdout, stderr) = apply(ws, yaml);
    println!("{what}: refused with: {}", stderr.trim());
    assert!(!ok, "{what} was applied: {stdout}{stderr}");
    assert!(
        stdout.trim().is_empty(),
        "{what}: something was applied: {stdout}"
    );
    for word in words {
        assert!(
            stderr.contains(word),
            "{what}: the error does not name {word:?}: {stderr}"
        );
    }
}

#[test]
fn bad_resources_are_refused_or_authorize_nothing_and_disturb_nothing() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("bad-resources", &[]);
    let up = ws.local_up(&[]);
    up.sleep_until(SETTLE);
    assert_undisturbed(&ws, "before any bad resource");
    let before = policy_objects(&ws);

    // What the API refuses: nothing is stored, the error names where.
    assert_refused(
        &ws,
        "YAML that does not parse",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
        &["STDIN", "line"],
    );
    // Links: Linkerd's CRD requires no field of a Link's spec and leaves
    // selector operators to the service mirror, so the API stores both;
    // the mirror of each reports, naming the Link and the field, and waits
    // for the Link to change.
    for (name, spec) in [
        (
            "broken-fields",
            "  clusterCredentialsSecret: cluster-credentials-broken\n",
        ),
        (
            "broken-selector",
            "  targetClusterName: broken\n  targetClusterDomain: cluster.local\n  \
             targetClusterLinkerdNamespace: linkerd\n  \
             clusterCredentialsSecret: cluster-credentials-broken\n  \
             remoteDiscoverySelector:\n    matchExpressions:\n    - key: app\n      \
             operator: Sometimes\n",
        ),
    ] {
        let yaml = format!(
            "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  \
             name: {name}\n  namespace: linkerd-multicluster\nspec:\n{spec}"
        );
        let (ok, stdout, stderr) = apply(&ws, &yaml);
        assert!(ok, "{stdout}{stderr}");
        assert_eq!(
            stdout,
            format!("link.multicluster.linkerd.io/{name} created\n")
        );
    }

    // A MeshTLSAuthentication with no identities: the CRD's `minItems: 1`
    // refuses it, on Kubernetes and in `strait local` alike.
    assert_refused(
        &ws,
        "a MeshTLSAuthentication with no identities",
        "apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\n\
         metadata:\n  name: nobody\n  namespace: mc-demo\nspec:\n  identities: []\n",
        &[
            "MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid",
            "spec.identities: Invalid value: 0",
            "at least 1 items",
        ],
    );

    // Valid but pointing at nothing: stored, authorizing nothing, and the
    // policy controller says so.
    let (ok, stdout, stderr) = apply(
        &ws,
        "apiVersion: policy.linkerd.io/v1beta1\nkind: Server\n\
         metadata:\n  name: no-such-port\n  namespace: mc-demo\nspec:\n  \
         podSelector:\n    matchLabels:\n      app: bb\n  port: no-such-port\n",
    );
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(stdout, "server.policy.linkerd.io/no-such-port created\n");
    let (ok, stdout, stderr) = apply(
        &ws,
        "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\n\
         metadata:\n  name: points-at-nothing\n  namespace: mc-demo\nspec:\n  \
         targetRef:\n    group: policy.linkerd.io\n    kind: Server\n    name: no-such-server\n  \
         requiredAuthenticationRefs:\n  - group: policy.linkerd.io\n    \
         kind: MeshTLSAuthentication\n    name: bb-good\n",
    );
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "authorizationpolicy.policy.linkerd.io/points-at-nothing created\n"
    );
    // An HTTPRoute on a Server that does not exist, and a policy on an
    // HTTPRoute that does not exist: both stored, both reported naming
    // the field, neither attached to bb.
    let (ok, stdout, stderr) = apply(
        &ws,
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n\
         metadata:\n  name: route-to-nothing\n  namespace: mc-demo\nspec:\n  \
         parentRefs:\n  - group: policy.linkerd.io\n    kind: Server\n    name: no-such-server\n",
    );
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "httproute.gateway.networking.k8s.io/route-to-nothing created\n"
    );
    let (ok, stdout, stderr) = apply(
        &ws,
        "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\n\
         metadata:\n  name: on-no-route\n  namespace: mc-demo\nspec:\n  \
         targetRef:\n    group: policy.linkerd.io\n    kind: HTTPRoute\n    name: no-such-route\n  \
         requiredAuthenticationRefs:\n  - group: policy.linkerd.io\n    \
         kind: MeshTLSAuthentication\n    name: bb-good\n",
    );
    assert!(ok, "{stdout}{stderr}");
    assert_eq!(
        stdout,
        "authorizationpolicy.policy.linkerd.io/on-no-route created\n"
    );

    // A full window after the last change: nothing else moved.
    std::thread::sleep(Duration::from_secs(17));
    let log = up.stderr_text();
    for (warning, what) in [
        (
            "link linkerd-multicluster/broken-fields: spec.targetClusterName is required",
            "Link broken-fields",
        ),
        (
            "link linkerd-multicluster/broken-selector: spec.remoteDiscoverySelector: unknown operator \"Sometimes\"",
            "Link broken-selector",
        ),
        (
            "Server mc-demo/no-such-port is ignored: spec.port \"no-such-port\" names no container port",
            "the Server on an unknown port name",
        ),
        (
            "AuthorizationPolicy mc-demo/points-at-nothing is ignored: spec.targetRef: Server mc-demo/no-such-server does not exist",
            "the AuthorizationPolicy pointing at nothing",
        ),
        (
            "HTTPRoute mc-demo/route-to-nothing is ignored: spec.parentRefs[0]: Server mc-demo/no-such-server does not exist",
            "the HTTPRoute on a missing Server",
        ),
        (
            "AuthorizationPolicy mc-demo/on-no-route is ignored: spec.targetRef: HTTPRoute mc-demo/no-such-route (group policy.linkerd.io) does not exist",
            "the AuthorizationPolicy on a missing HTTPRoute",
        ),
    ] {
        assert!(log.contains(warning), "no warning about {what}:\n{log}");
    }
    // Only the bad resources are reported: the guide's own policy is not,
    // not even while the watches start.
    assert!(!log.contains("bb-authz is ignored"), "{log}");
    assert!(!log.contains("bb-good is ignored"), "{log}");
    assert_undisturbed(&ws, "after the bad resources");
    let after = policy_objects(&ws);
    let added = [
        "no-such-port",
        "points-at-nothing",
        "nobody",
        "route-to-nothing",
        "on-no-route",
    ];
    let kept: Vec<_> = after
        .into_iter()
        .filter(|o| !added.contains(&o["metadata"]["name"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(before, kept, "the guide's objects changed");
    assert!(
        ws.services("west").contains(&"bb-target".to_string()),
        "the guide's mirror in west is gone"
    );
    up.stop();
}
