//! The bad-resources drill: resources a user can get wrong, applied to the
//! running guide through east's Kubernetes API as `strait --context east
//! apply -f -` applies them. What the API server would refuse must be refused with an
//! error naming the object and the field; what it accepts but points at
//! nothing must be reported, naming the resource and what is wrong (a log
//! line and a Warning Event on it). Either way the guide's own resources
//! stay as they were and no request is lost or wrongly admitted.

use std::time::Duration;

use serde_json::Value;
use strait_kubectl::Kubectl;
use strait_multicluster::kubeconfig::UserKubeconfig;
use strait_store::MemoryStore;

use crate::accounting::{Denied, Ledger};
use crate::mesh::{DrillMesh, NAMESPACE, SERVER_CLUSTER};
use crate::report::Row;

/// The drill's name in the report.
pub const DRILL: &str = "resources";

/// How long a message about an accepted resource may take to appear.
const MESSAGE_WITHIN: Duration = Duration::from_secs(20);
/// Traffic watched after each resource, so a late effect is seen.
const SETTLE: Duration = Duration::from_secs(3);

/// What the mesh must do with a bad resource.
enum Expect {
    /// Refused by the API, the error containing every one of these.
    Refused(&'static [&'static str]),
    /// Stored, then a Warning Event with this reason on the object, its
    /// message containing every one of these.
    Reported {
        namespace: &'static str,
        reason: &'static str,
        words: &'static [&'static str],
    },
}

/// One bad resource.
struct Case {
    tried: &'static str,
    yaml: &'static str,
    /// The object, to delete once the drill is over (none when refused).
    object: Option<(&'static str, &'static str, &'static str, &'static str)>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            tried: "apply YAML that does not parse",
            yaml: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n",
            object: None,
            expect: Expect::Refused(&["invalid YAML", "line"]),
        },
        Case {
            tried: "apply a MeshTLSAuthentication with `identities: []`",
            yaml: "apiVersion: policy.linkerd.io/v1alpha1\nkind: MeshTLSAuthentication\n\
                   metadata:\n  name: nobody\n  namespace: mc-demo\nspec:\n  identities: []\n",
            object: None,
            expect: Expect::Refused(&[
                "MeshTLSAuthentication.policy.linkerd.io \"nobody\" is invalid",
                "spec.identities",
                "at least 1 items",
            ]),
        },
        Case {
            tried: "apply a Link whose gatewayPort is a number (the CRD says string)",
            yaml: "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  \
                   name: broken-port\n  namespace: linkerd-multicluster\nspec:\n  targetClusterName: west\n  \
                   gatewayAddress: 10.0.0.1\n  gatewayPort: 4143\n",
            object: None,
            expect: Expect::Refused(&[
                "Link.multicluster.linkerd.io \"broken-port\" is invalid",
                "spec.gatewayPort",
                "must be of type string",
            ]),
        },
        Case {
            tried: "apply a Link missing targetClusterName (every field is optional in the CRD)",
            yaml: "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  \
                   name: broken-fields\n  namespace: linkerd-multicluster\nspec:\n  \
                   clusterCredentialsSecret: cluster-credentials-broken\n",
            object: Some((
                "Link",
                "multicluster.linkerd.io",
                "linkerd-multicluster",
                "broken-fields",
            )),
            expect: Expect::Reported {
                namespace: "linkerd-multicluster",
                reason: "InvalidLink",
                words: &[
                    "link linkerd-multicluster/broken-fields",
                    "spec.targetClusterName",
                ],
            },
        },
        Case {
            tried: "apply a Link whose remoteDiscoverySelector has `operator: Sometimes`",
            yaml: "apiVersion: multicluster.linkerd.io/v1alpha3\nkind: Link\nmetadata:\n  \
                   name: broken-selector\n  namespace: linkerd-multicluster\nspec:\n  \
                   targetClusterName: west\n  targetClusterDomain: cluster.local\n  \
                   clusterCredentialsSecret: cluster-credentials-west\n  \
                   remoteDiscoverySelector:\n    matchExpressions:\n    - key: app\n      \
                   operator: Sometimes\n",
            object: Some((
                "Link",
                "multicluster.linkerd.io",
                "linkerd-multicluster",
                "broken-selector",
            )),
            expect: Expect::Reported {
                namespace: "linkerd-multicluster",
                reason: "InvalidLink",
                words: &[
                    "link linkerd-multicluster/broken-selector",
                    "spec.remoteDiscoverySelector",
                    "Sometimes",
                ],
            },
        },
        Case {
            tried: "apply a Server whose port names no container port of bb",
            yaml: "apiVersion: policy.linkerd.io/v1beta1\nkind: Server\nmetadata:\n  \
                   name: no-such-port\n  namespace: mc-demo\nspec:\n  podSelector:\n    \
                   matchLabels:\n      app: bb\n  port: no-such-port\n",
            object: Some(("Server", "policy.linkerd.io", NAMESPACE, "no-such-port")),
            expect: Expect::Reported {
                namespace: NAMESPACE,
                reason: "Ignored",
                words: &["Server mc-demo/no-such-port is ignored", "spec.port"],
            },
        },
        Case {
            tried: "apply an AuthorizationPolicy whose targetRef names no Server",
            yaml: "apiVersion: policy.linkerd.io/v1alpha1\nkind: AuthorizationPolicy\n\
                   metadata:\n  name: points-at-nothing\n  namespace: mc-demo\nspec:\n  \
                   targetRef:\n    group: policy.linkerd.io\n    kind: Server\n    \
                   name: no-such-server\n  requiredAuthenticationRefs:\n  - \
                   group: policy.linkerd.io\n    kind: MeshTLSAuthentication\n    \
                   name: bb-good\n",
            object: Some((
                "AuthorizationPolicy",
                "policy.linkerd.io",
                NAMESPACE,
                "points-at-nothing",
            )),
            expect: Expect::Reported {
                namespace: NAMESPACE,
                reason: "Ignored",
                words: &[
                    "AuthorizationPolicy mc-demo/points-at-nothing is ignored",
                    "spec.targetRef",
                    "no-such-server does not exist",
                ],
            },
        },
    ]
}

/// Applies each bad resource to east while the guide's traffic runs; one
/// row each. The resources that were stored are deleted at the end.
pub async fn resources(mesh: &DrillMesh) -> Vec<Row> {
    let (client, store) = match east(mesh).await {
        Ok(found) => found,
        Err(why) => return vec![Row::new(DRILL, "reach east's API", why, "-", false)],
    };
    let mut rows = Vec::new();
    let mut stored = Vec::new();
    let ledger = Ledger::open(mesh);
    let cases = cases();
    let last = cases.len().saturating_sub(1);
    for (i, case) in cases.iter().enumerate() {
        rows.push(run(mesh, &ledger, &client, &store, case, i == last).await);
        stored.extend(case.object);
    }
    for (kind, group, namespace, name) in stored {
        let deleted = match client.kind_of(kind, Some(group)) {
            Some(found) => client.delete(&found, namespace, name).await.map(drop),
            None => Err(strait_kubectl::KubectlError::UnknownResource(kind.into())),
        };
        if let Err(err) = deleted {
            tracing::warn!("cannot delete the drill's {kind} {namespace}/{name}: {err}");
        }
    }
    rows
}

/// East's client, as `strait --context east` makes it from the run's
/// kubeconfig, and its store.
async fn east(mesh: &DrillMesh) -> Result<(Kubectl, MemoryStore), String> {
    let path = mesh
        .mesh()?
        .kubeconfig()
        .ok_or("the run wrote no kubeconfig")?
        .to_path_buf();
    let kubeconfig = UserKubeconfig::read(vec![path]);
    let client = Kubectl::for_kubeconfig(&kubeconfig, Some(SERVER_CLUSTER))
        .await
        .map_err(|e| e.to_string())?;
    let store = mesh.cluster(SERVER_CLUSTER)?.store().clone();
    Ok((client, store))
}

/// Applies one case and judges it with the traffic of its window, which
/// starts where the last case's ended; the `last` case's window ends only
/// once the clients' request timeout has passed after it.
async fn run(
    mesh: &DrillMesh,
    ledger: &Ledger<'_>,
    client: &Kubectl,
    store: &MemoryStore,
    case: &Case,
    last: bool,
) -> Row {
    let before_objects = guide_objects(store);
    let applied = strait_kubectl::apply::apply(client, case.yaml, None).await;
    let (happened, clear) = match (&case.expect, applied) {
        (Expect::Refused(words), Err(err)) => {
            let message = err.reason.clone();
            let clear = err.applied.is_empty() && words.iter().all(|w| message.contains(w));
            (format!("refused: {message}"), clear)
        }
        (Expect::Refused(_), Ok(results)) => (
            format!("accepted: {} objects applied", results.len()),
            false,
        ),
        (Expect::Reported { .. }, Err(err)) => (format!("refused: {err}"), false),
        (
            Expect::Reported {
                namespace,
                reason,
                words,
            },
            Ok(_),
        ) => {
            let name = case.object.map_or("", |o| o.3);
            match wait_for_event(store, namespace, name, reason).await {
                Some(message) => {
                    let clear = words.iter().all(|w| message.contains(w));
                    (
                        format!("stored; Warning Event {reason} on it: {message}"),
                        clear,
                    )
                }
                None => (
                    format!("stored; no {reason} Event on it within {MESSAGE_WITHIN:?}"),
                    false,
                ),
            }
        }
    };
    let applied_at = tokio::time::Instant::now();
    tokio::time::sleep(SETTLE).await;
    let window = if last {
        ledger.close_after(applied_at).await
    } else {
        ledger.close_drained().await
    };
    let after_objects = guide_objects(store);
    let unchanged = before_objects == after_objects;
    let lost = if unchanged {
        "nothing"
    } else {
        "the guide's objects in east changed"
    };
    let why = mesh.why(&window);
    let happened = if why.is_empty() {
        happened
    } else {
        format!("{happened}; {why}")
    };
    Row::judged(
        DRILL,
        case.tried,
        happened,
        lost,
        clear && unchanged && window.guide_decisions(),
        &window,
        Denied::Refused,
    )
}

/// The message of the newest Event with `reason` about `namespace/name`.
async fn wait_for_event(
    store: &MemoryStore,
    namespace: &str,
    name: &str,
    reason: &str,
) -> Option<String> {
    crate::poll::until(MESSAGE_WITHIN, Duration::from_millis(100), || {
        store.objects().into_iter().find_map(|(kind, event)| {
            let about = &event["involvedObject"];
            (kind.group.is_empty()
                && kind.kind == "Event"
                && event["reason"] == reason
                && event["type"] == "Warning"
                && about["name"] == name
                && about["namespace"] == namespace)
                .then(|| event["message"].as_str().unwrap_or("").to_string())
        })
    })
    .await
}

/// The guide's objects in east (every object of the guide's namespace but
/// events and pods, and the Links), without what the server and the
/// controllers rewrite as they run, to compare before and after.
fn guide_objects(store: &MemoryStore) -> Vec<Value> {
    let drill_names = [
        "no-such-port",
        "points-at-nothing",
        "nobody",
        "broken-fields",
        "broken-selector",
        "broken-port",
    ];
    store
        .objects()
        .into_iter()
        .filter(|(kind, object)| {
            let in_guide = object["metadata"]["namespace"] == NAMESPACE || kind.kind == "Link";
            let churns = ["Event", "Pod", "EndpointSlice", "Endpoints", "ReplicaSet"]
                .contains(&kind.kind.as_str());
            let name = object["metadata"]["name"].as_str().unwrap_or("");
            in_guide && !churns && !drill_names.contains(&name)
        })
        .map(|(_, object)| {
            let mut object = (*object).clone();
            if let Some(map) = object.as_object_mut() {
                map.remove("status");
            }
            if let Some(meta) = object["metadata"].as_object_mut() {
                meta.remove("resourceVersion");
                meta.remove("managedFields");
            }
            object
        })
        .collect()
}
