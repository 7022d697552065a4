//! The security drill: bb's port is attacked for real, over sockets, while
//! the guide's traffic runs, and every attack must be refused without
//! costing slow-cooker a request or letting slow-cooker-evil in.
//!
//! 1. A client certificate naming slow-cooker's identity exactly, under a
//!    trust anchor of its own.
//! 2. Plaintext HTTP from a loopback address that is no meshed pod.
//! 3. A genuine certificate from the mesh's identity service, obtained
//!    with another service account's token, for that account's identity.
//! 4. A remote-discovery export whose pod runs without a proxy: what the
//!    client cluster's destination service says about it, and what a
//!    meshed client does sending to it.
//! 5. slow-cooker-evil's pod sending through slow-cooker's proxy (its
//!    outbound listener is on slow-cooker's address, which every pod
//!    reaches): bb would admit the request as slow-cooker's.
//! 6. A local process (or a web page) applying an AuthorizationPolicy that
//!    admits everyone through `strait local`'s API, without the run's
//!    token.

pub(crate) mod wire;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, Pod, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use strait_local::LocalCluster;
use strait_mesh::ports::OUTBOUND_PORT;
use strait_store::ClusterStore;
use strait_tls::{LocalIdentity, TrustRoots};

use crate::accounting::{Denied, Ledger, Window};
use crate::mesh::{
    ALLOWED_CLIENT, CLIENT_CLUSTER, DENIED_CLIENT, DrillMesh, NAMESPACE, SERVER_CLUSTER,
};
use crate::poll;
use crate::report::Row;
use wire::{Announced, Answer, Forged};

/// The drill's name in the report.
pub const DRILL: &str = "security";

/// bb's Deployment, and the port its policy guards.
const SERVER: &str = "bb";
const SERVER_PORT: u16 = 8080;
/// The Service slow-cooker calls in the client cluster: bb's mirror.
const MIRROR: &str = "bb-target";
/// The unmeshed export the fourth case creates in the server's cluster.
const UNMESHED: &str = "bb-unmeshed";
/// The label that exports a Service in remote-discovery mode, as the
/// guide's Link selects it.
const EXPORT_LABEL: (&str, &str) = ("mirror.linkerd.io/exported", "remote-discovery");
/// The label a mirror carries naming the Service it mirrors.
const REMOTE_SERVICE_LABEL: &str = "multicluster.linkerd.io/remote-service";
/// Where a process of the machine that is no pod connects from by default
/// (pods get addresses in 127.1.0.0/16).
const OUTSIDER: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// How long the guide's traffic is watched after each attack, so failures
/// an attack caused have time to show in the clients' totals.
const SETTLE: Duration = Duration::from_secs(1);
/// How long the unmeshed export may take to run and to be mirrored.
const EXPORT_PATIENCE: Duration = Duration::from_secs(30);
/// The field manager the drill's objects are applied as.
const FIELD_MANAGER: &str = "strait-reliability";

/// What an attack found, before the guide's traffic is judged with it.
struct Attempt {
    happened: String,
    as_required: bool,
}

/// bb as an attacker on the flat network sees it.
struct Target {
    addr: SocketAddr,
    identity: String,
    roots: TrustRoots,
    control_plane_namespace: String,
    trust_domain: String,
}

/// Runs the five attacks, one row each (the fourth gives two: what the
/// destination service announces, and what traffic to the pod does).
pub async fn security(mesh: &DrillMesh) -> Vec<Row> {
    let clusters = mesh
        .cluster(SERVER_CLUSTER)
        .and_then(|east| Ok((east, mesh.cluster(CLIENT_CLUSTER)?)));
    let (east, west) = match clusters {
        Ok(clusters) => clusters,
        Err(error) => return vec![Row::new(DRILL, "find the clusters", error, "-", false)],
    };
    let target = match target(&east).await {
        Ok(target) => target,
        Err(error) => return vec![Row::new(DRILL, "find bb", error, "-", false)],
    };
    let ledger = Ledger::open(mesh);
    let mut rows = vec![
        guarded(
            mesh,
            &ledger,
            format!(
                "mTLS to bb ({}) with a certificate for {} under a freshly generated trust anchor",
                target.addr,
                admitted_identity(&target)
            ),
            forged_anchor(&target),
        )
        .await,
        guarded(
            mesh,
            &ledger,
            format!(
                "plaintext HTTP/1.1 to bb ({}) from {OUTSIDER}, no pod's address",
                target.addr
            ),
            plaintext(&target),
        )
        .await,
        guarded(
            mesh,
            &ledger,
            format!(
                "mTLS to bb ({}) with a certificate west's identity service issued for the {DENIED_CLIENT} service account",
                target.addr
            ),
            other_identity(&target, &west),
        )
        .await,
        guarded(
            mesh,
            &ledger,
            format!(
                "HTTP/1.1 from {DENIED_CLIENT}'s pod to {ALLOWED_CLIENT}'s outbound proxy port, for {}",
                authority(MIRROR)
            ),
            borrowed_proxy(&west),
        )
        .await,
        guarded(
            mesh,
            &ledger,
            "POST to strait local's API applying an AuthorizationPolicy that admits every client of bb, without the run's token"
                .to_string(),
            unauthenticated_api(mesh),
        )
        .await,
    ];
    rows.extend(unmeshed_export(mesh, &ledger, &east, &west, &target).await);
    rows
}

/// Case 5: another pod's app uses slow-cooker's proxy as its own. Only
/// slow-cooker's pod may send through it: the connection must be refused
/// unanswered.
async fn borrowed_proxy(west: &LocalCluster) -> Attempt {
    let address = |deployment: &str| {
        west.pods()
            .into_iter()
            .find(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some(deployment))
            .and_then(|p| p.ip)
            .ok_or_else(|| format!("no {deployment} pod with an address in {CLIENT_CLUSTER}"))
    };
    let (victim, attacker) = match (address(ALLOWED_CLIENT), address(DENIED_CLIENT)) {
        (Ok(victim), Ok(attacker)) => (victim, attacker),
        (Err(error), _) | (_, Err(error)) => return not_tried(error),
    };
    let answer = match wire::tcp_from(attacker, SocketAddr::new(victim, OUTBOUND_PORT)).await {
        Ok(mut tcp) => wire::exchange(&mut tcp, &authority(MIRROR)).await,
        Err(error) => Answer::Failed(error),
    };
    Attempt {
        as_required: matches!(answer, Answer::Failed(_)),
        happened: format!("{ALLOWED_CLIENT}'s proxy: {}", answer.quote()),
    }
}

/// Case 6: a local process (or a web page) changes the policy through
/// east's Kubernetes API without the run's token. The API must refuse it
/// (401) before reading the body; the guide's policy holds meanwhile.
async fn unauthenticated_api(mesh: &DrillMesh) -> Attempt {
    let api = match mesh.mesh().and_then(|local| {
        local
            .kube_apis()
            .iter()
            .find(|a| a.name == SERVER_CLUSTER)
            .cloned()
            .ok_or_else(|| format!("no API for {SERVER_CLUSTER}"))
    }) {
        Ok(api) => api,
        Err(error) => return not_tried(error),
    };
    let body = serde_json::json!({
        "apiVersion": "policy.linkerd.io/v1alpha1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "everyone", "namespace": NAMESPACE},
        "spec": {
            "targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": SERVER},
            "requiredAuthenticationRefs": []
        }
    })
    .to_string();
    let host = api.server.trim_start_matches("https://").to_string();
    let request = format!(
        "POST /apis/policy.linkerd.io/v1alpha1/namespaces/{NAMESPACE}/authorizationpolicies HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let answer = match wire::api_tls(&host, &api.ca_pem).await {
        Ok(mut tls) => wire::exchange_raw(&mut tls, &request).await,
        Err(error) => Answer::Failed(error),
    };
    Attempt {
        as_required: matches!(answer, Answer::Http { status: 401, .. }),
        happened: format!("{SERVER_CLUSTER}'s Kubernetes API: {}", answer.quote()),
    }
}

/// The identity the guide's policy admits.
fn admitted_identity(target: &Target) -> String {
    identity(ALLOWED_CLIENT, NAMESPACE, target)
}

fn identity(account: &str, namespace: &str, target: &Target) -> String {
    format!(
        "{account}.{namespace}.serviceaccount.identity.{}.{}",
        target.control_plane_namespace, target.trust_domain
    )
}

/// bb's pod address, its identity (from its service account) and the
/// mesh's trust anchors.
async fn target(east: &LocalCluster) -> Result<Target, String> {
    let pod = east
        .pods()
        .into_iter()
        .find(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some(SERVER) && p.meshed)
        .ok_or_else(|| format!("no meshed {SERVER} pod in {NAMESPACE}"))?;
    let ip = pod
        .ip
        .ok_or_else(|| format!("{SERVER} pod {} has no address", pod.name))?;
    let spec = ClusterStore::get::<Pod>(east.store(), NAMESPACE, &pod.name)
        .await
        .map_err(|e| format!("{SERVER} pod {}: {e}", pod.name))?
        .and_then(|p| p.spec);
    let account = spec
        .and_then(|s| s.service_account_name)
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "default".to_string());
    let info = east.info();
    let roots = TrustRoots::from_pem(
        "the mesh's trust anchors",
        info.trust_anchors_pem.as_bytes(),
    )
    .map_err(|e| e.to_string())?;
    let mut target = Target {
        addr: SocketAddr::new(ip, SERVER_PORT),
        identity: String::new(),
        roots,
        control_plane_namespace: info.control_plane_namespace,
        trust_domain: info.trust_domain,
    };
    target.identity = identity(&account, NAMESPACE, &target);
    Ok(target)
}

/// Runs `attack` and judges it together with the guide's traffic from the
/// end of the last row until [`SETTLE`] after it and every request sent by
/// then has ended: the row passes only if the attack was refused,
/// slow-cooker kept being served, and nothing was lost.
async fn guarded(
    mesh: &DrillMesh,
    ledger: &Ledger<'_>,
    tried: String,
    attack: impl Future<Output = Attempt>,
) -> Row {
    let attempt = attack.await;
    tokio::time::sleep(SETTLE).await;
    let window = ledger.close_drained().await;
    judged(mesh, tried, attempt, &window)
}

fn judged(mesh: &DrillMesh, tried: String, attempt: Attempt, window: &Window) -> Row {
    let mut row = verdict(tried, attempt, window);
    let why = mesh.why(window);
    if !why.is_empty() {
        row.happened.push_str(&format!("; {why}"));
    }
    row
}

/// The row of an attempt and the window of traffic around it.
fn verdict(tried: String, attempt: Attempt, window: &Window) -> Row {
    let flowing = window.traffic.allowed.ok > 0;
    let mut happened = attempt.happened;
    if !flowing {
        happened.push_str(" (slow-cooker was not served at all)");
    }
    Row::judged(
        DRILL,
        tried,
        happened,
        "nothing",
        attempt.as_required && flowing,
        window,
        Denied::Refused,
    )
}

/// Case 1: only the anchor is wrong.
async fn forged_anchor(target: &Target) -> Attempt {
    let admitted = admitted_identity(target);
    let config = match Forged::new(
        &admitted,
        &target.control_plane_namespace,
        &target.trust_domain,
    )
    .and_then(|forged| forged.client_config(&target.roots))
    {
        Ok(config) => config,
        Err(error) => return not_tried(error),
    };
    let tcp = match wire::tcp_from(OUTSIDER, target.addr).await {
        Ok(tcp) => tcp,
        Err(error) => return not_tried(error),
    };
    let answer = match wire::tls_connect(tcp, config, &target.identity).await {
        Ok(mut tls) => wire::exchange(&mut tls, &authority(SERVER)).await,
        Err(error) => Answer::Failed(error),
    };
    Attempt {
        as_required: !answer.served()
            && (answer.forbidden() || matches!(answer, Answer::Failed(_))),
        happened: format!("bb's proxy: {}", answer.quote()),
    }
}

/// Case 2: no TLS at all.
async fn plaintext(target: &Target) -> Attempt {
    plaintext_from(OUTSIDER, target).await
}

/// Plain HTTP/1.1 to bb from `source`: a 403 (or a refused connection)
/// is required.
async fn plaintext_from(source: IpAddr, target: &Target) -> Attempt {
    let answer = match wire::tcp_from(source, target.addr).await {
        Ok(mut tcp) => wire::exchange(&mut tcp, &authority(SERVER)).await,
        Err(error) => return not_tried(error),
    };
    Attempt {
        as_required: !answer.served()
            && (answer.forbidden() || matches!(answer, Answer::Failed(_))),
        happened: format!("bb's proxy: {}", answer.quote()),
    }
}

/// Case 3: a real certificate, for an identity the policy does not admit.
/// First the token is tried for slow-cooker's identity (the identity
/// service must refuse), then for its own account's.
async fn other_identity(target: &Target, west: &LocalCluster) -> Attempt {
    let admitted = admitted_identity(target);
    let other = identity(DENIED_CLIENT, NAMESPACE, target);
    let plane = west.control_plane_addr();
    let token = west.service_account_token(NAMESPACE, DENIED_CLIENT);
    let impostor = match LocalIdentity::new(&admitted) {
        Ok(local) => local,
        Err(error) => return not_tried(error.to_string()),
    };
    let stolen = wire::certify(plane, &impostor, token.clone(), &target.roots).await;
    let stolen_refused = stolen.is_err();
    let asked_admitted = match &stolen {
        Ok(_) => format!("west's identity service ISSUED {admitted} for a {DENIED_CLIENT} token"),
        Err(error) => {
            format!("asked for {admitted} with that token, west's identity service: {error}")
        }
    };
    let local = match LocalIdentity::new(&other) {
        Ok(local) => local,
        Err(error) => return not_tried(error.to_string()),
    };
    let credentials = match wire::certify(plane, &local, token, &target.roots).await {
        Ok(credentials) => credentials,
        Err(error) => {
            return Attempt {
                as_required: false,
                happened: format!(
                    "{asked_admitted}; certifying {other} failed, so nothing was tried against bb: {error}"
                ),
            };
        }
    };
    let answer = match wire::tcp_from(OUTSIDER, target.addr).await {
        Ok(tcp) => match tokio::time::timeout(
            wire::EXCHANGE_TIMEOUT,
            strait_tls::connect(tcp, &credentials, &target.identity),
        )
        .await
        {
            Ok(Ok(mut tls)) => wire::exchange(&mut tls, &authority(SERVER)).await,
            Ok(Err(error)) => Answer::Failed(error.to_string()),
            Err(_) => Answer::Failed("mTLS handshake timed out".to_string()),
        },
        Err(error) => return not_tried(error),
    };
    Attempt {
        as_required: stolen_refused && answer.forbidden(),
        happened: format!(
            "{asked_admitted}; with the certificate it issued for {other}, bb's proxy: {}",
            answer.quote()
        ),
    }
}

/// Case 4: the unmeshed export. Its objects are removed again afterwards.
async fn unmeshed_export(
    mesh: &DrillMesh,
    ledger: &Ledger<'_>,
    east: &LocalCluster,
    west: &LocalCluster,
    target: &Target,
) -> Vec<Row> {
    let tried_resolve = format!(
        "{UNMESHED}: a Deployment without a proxy running buoyantio/bb in {SERVER_CLUSTER}, its Service labelled {}={}; west's destination asked for its mirror",
        EXPORT_LABEL.0, EXPORT_LABEL.1
    );
    let tried_send = format!(
        "HTTP/1.1 to the {UNMESHED} mirror through {ALLOWED_CLIENT}'s proxy in {CLIENT_CLUSTER} (a meshed client)"
    );
    let tried_reach = format!(
        "plaintext HTTP/1.1 to bb ({}) from the {UNMESHED} pod's address",
        target.addr
    );
    let outcome = export_and_probe(east, west, target).await;
    cleanup(east).await;
    // The drill's last window: on until the clients' timeout has passed.
    let window = ledger.close_after(tokio::time::Instant::now()).await;
    match outcome {
        Ok((resolved, sent, reached)) => vec![
            judged(mesh, tried_resolve, resolved, &window),
            judged(mesh, tried_send, sent, &window),
            judged(mesh, tried_reach, reached, &window),
        ],
        Err(error) => vec![judged(mesh, tried_resolve, not_tried(error), &window)],
    }
}

/// Creates the unmeshed export, waits for it to run and be mirrored, and
/// returns what the destination service announced, what sending to it
/// did, and what bb did with plaintext from the unmeshed pod's address.
async fn export_and_probe(
    east: &LocalCluster,
    west: &LocalCluster,
    target: &Target,
) -> Result<(Attempt, Attempt, Attempt), String> {
    ClusterStore::apply(east.store(), &unmeshed_deployment(), FIELD_MANAGER)
        .await
        .map_err(|e| format!("applying Deployment {UNMESHED}: {e}"))?;
    ClusterStore::apply(east.store(), &unmeshed_service(), FIELD_MANAGER)
        .await
        .map_err(|e| format!("applying Service {UNMESHED}: {e}"))?;
    let pod_ip = poll::until(EXPORT_PATIENCE, Duration::from_millis(200), || {
        east.pods()
            .into_iter()
            .find(|p| {
                p.namespace == NAMESPACE && p.deployment.as_deref() == Some(UNMESHED) && p.ready
            })
            .and_then(|p| {
                if p.meshed {
                    Some(Err(p.name))
                } else {
                    p.ip.map(Ok)
                }
            })
    })
    .await
    .ok_or_else(|| format!("the {UNMESHED} pod did not run within {EXPORT_PATIENCE:?}"))?
    .map_err(|pod| {
        format!("the {UNMESHED} pod {pod} was given a proxy, which the drill did not ask for")
    })?;
    let mirror = poll::until(EXPORT_PATIENCE, Duration::from_millis(200), || {
        mirror_of(west, UNMESHED)
    })
    .await
    .ok_or_else(|| {
        format!("no mirror of {UNMESHED} in {CLIENT_CLUSTER} within {EXPORT_PATIENCE:?}")
    })?;
    let meshed_mirror = mirror_of(west, SERVER)
        .ok_or_else(|| format!("no mirror of {SERVER} in {CLIENT_CLUSTER}"))?;
    let plane = west.control_plane_addr();
    let unmeshed = wire::resolve(plane, &authority(&mirror), NAMESPACE, EXPORT_PATIENCE).await?;
    let meshed = wire::resolve(
        plane,
        &authority(&meshed_mirror),
        NAMESPACE,
        EXPORT_PATIENCE,
    )
    .await?;
    let resolved = judge_announced(&mirror, pod_ip, &unmeshed, &meshed_mirror, &meshed, target);
    let sent = send_through_client(west, &mirror, pod_ip).await;
    let reached = plaintext_from(pod_ip, target).await;
    Ok((resolved, sent, reached))
}

fn judge_announced(
    mirror: &str,
    pod_ip: IpAddr,
    unmeshed: &[Announced],
    meshed_mirror: &str,
    meshed: &[Announced],
    target: &Target,
) -> Attempt {
    let show = |set: &[Announced]| {
        set.iter()
            .map(|a| match &a.identity {
                Some(identity) => format!("{} identity {identity}", a.addr),
                None => format!("{} no identity", a.addr),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let only_the_pod = unmeshed
        .iter()
        .all(|a| a.addr == SocketAddr::new(pod_ip, SERVER_PORT));
    let none_claimed = unmeshed.iter().all(|a| a.identity.is_none());
    let meshed_verified = meshed
        .iter()
        .all(|a| a.identity.as_deref() == Some(target.identity.as_str()));
    Attempt {
        as_required: only_the_pod && none_claimed && meshed_verified,
        happened: format!(
            "west's destination: {mirror} -> {}; for contrast the meshed {meshed_mirror} -> {}",
            show(unmeshed),
            show(meshed)
        ),
    }
}

/// Sends through slow-cooker's own proxy and reads that proxy's metrics
/// for the connection it made to the unmeshed pod.
async fn send_through_client(west: &LocalCluster, mirror: &str, pod_ip: IpAddr) -> Attempt {
    let Some(client) = west
        .pods()
        .into_iter()
        .find(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some(ALLOWED_CLIENT))
    else {
        return not_tried(format!("no {ALLOWED_CLIENT} pod in {CLIENT_CLUSTER}"));
    };
    let (Some(ip), Some(admin)) = (client.ip, client.proxy_admin) else {
        return not_tried(format!(
            "{ALLOWED_CLIENT}'s pod has no address or proxy yet"
        ));
    };
    let answer = match wire::tcp_from(ip, SocketAddr::new(ip, OUTBOUND_PORT)).await {
        Ok(mut tcp) => wire::exchange(&mut tcp, &authority(mirror)).await,
        Err(error) => Answer::Failed(error),
    };
    let endpoint = SocketAddr::new(pod_ip, SERVER_PORT);
    let (as_required, series) = match wire::scrape(admin).await {
        Ok(text) => plaintext_series(&text, endpoint),
        Err(error) => (false, format!("metrics unreadable: {error}")),
    };
    Attempt {
        as_required,
        happened: format!(
            "the meshed client got {}; its proxy's series for the pod: {series}",
            answer.quote()
        ),
    }
}

/// Whether a client proxy's metrics show its requests to `endpoint` sent
/// in plaintext, marked as such (a `request_total` series with
/// `tls="no_identity"` and no server identity), and the series or what is
/// missing. Without that series nothing is shown, and the check fails.
fn plaintext_series(metrics: &str, endpoint: SocketAddr) -> (bool, String) {
    let endpoint = format!("target_addr=\"{endpoint}\"");
    let Some(series) = metrics
        .lines()
        .find(|l| l.starts_with("request_total") && l.contains(&endpoint))
    else {
        return (false, format!("no request_total series with {endpoint}"));
    };
    let claimed = series.contains("server_id=") || series.contains("tls=\"true\"");
    let marked = series.contains("tls=\"no_identity\"");
    (marked && !claimed, series.to_string())
}

/// The name of the Service in `west` mirroring `service` of the server's
/// cluster, once it exists.
fn mirror_of(west: &LocalCluster, service: &str) -> Option<String> {
    west.store()
        .objects()
        .into_iter()
        .filter(|(kind, _)| kind.kind == "Service")
        .find(|(_, o)| {
            o["metadata"]["namespace"] == NAMESPACE
                && o["metadata"]["labels"][REMOTE_SERVICE_LABEL] == service
        })
        .and_then(|(_, o)| o["metadata"]["name"].as_str().map(str::to_string))
}

async fn cleanup(east: &LocalCluster) {
    if let Err(error) = ClusterStore::delete::<Service>(east.store(), NAMESPACE, UNMESHED).await {
        tracing::warn!(%error, "the drill's Service {UNMESHED} was not deleted");
    }
    if let Err(error) = ClusterStore::delete::<Deployment>(east.store(), NAMESPACE, UNMESHED).await
    {
        tracing::warn!(%error, "the drill's Deployment {UNMESHED} was not deleted");
    }
}

fn authority(service: &str) -> String {
    format!("{service}.{NAMESPACE}.svc.cluster.local:{SERVER_PORT}")
}

fn not_tried(error: String) -> Attempt {
    Attempt {
        as_required: false,
        happened: format!("the attack could not be made: {error}"),
    }
}

fn unmeshed_labels() -> std::collections::BTreeMap<String, String> {
    [("app".to_string(), UNMESHED.to_string())].into()
}

/// bb's container as the guide runs it, answering `unmeshed`, in a pod
/// template without `linkerd.io/inject`.
fn unmeshed_deployment() -> Deployment {
    Deployment {
        metadata: ObjectMeta {
            name: Some(UNMESHED.to_string()),
            namespace: Some(NAMESPACE.to_string()),
            ..ObjectMeta::default()
        },
        spec: DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(unmeshed_labels()),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(unmeshed_labels()),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "terminus".to_string(),
                        image: Some("buoyantio/bb:v0.0.6".to_string()),
                        args: Some(vec![
                            "terminus".to_string(),
                            format!("--h1-server-port={SERVER_PORT}"),
                            "--response-text=unmeshed\n".to_string(),
                        ]),
                        ports: Some(vec![ContainerPort {
                            container_port: i32::from(SERVER_PORT),
                            ..ContainerPort::default()
                        }]),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

fn unmeshed_service() -> Service {
    Service {
        metadata: ObjectMeta {
            name: Some(UNMESHED.to_string()),
            namespace: Some(NAMESPACE.to_string()),
            labels: Some([(EXPORT_LABEL.0.to_string(), EXPORT_LABEL.1.to_string())].into()),
            ..ObjectMeta::default()
        },
        spec: Some(ServiceSpec {
            ports: Some(vec![ServicePort {
                name: Some("http".to_string()),
                port: i32::from(SERVER_PORT),
                target_port: Some(
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(i32::from(
                        SERVER_PORT,
                    )),
                ),
                ..ServicePort::default()
            }]),
            selector: Some(unmeshed_labels()),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}

#[cfg(test)]
mod tests;
