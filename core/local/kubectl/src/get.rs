//! `strait get`'s output: kubectl's tables, with kubectl's columns for
//! Services, Pods, Deployments, StatefulSets, Namespaces, Secrets and
//! ServiceAccounts (NAME and AGE for other kinds), rendered here from the
//! objects.

use serde_json::Value;

use crate::resources::Resource;
use crate::table::{age, now_secs, render};

/// A `List` of `items`, as kubectl prints several objects as YAML or JSON.
pub fn list(items: Vec<Value>) -> Value {
    serde_json::json!({"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}})
}

/// The cells of one row of a kind's table, given the time now.
type RowCells = fn(&Value, u64) -> Vec<String>;

/// The table of `objects`: kubectl's columns for the kinds it knows, NAME
/// and AGE for the rest; NAMESPACE first with `-A`.
pub fn table(resource: &Resource, objects: &[Value], all_namespaces: bool) -> String {
    let now = now_secs();
    let (header, cells): (Vec<&str>, RowCells) = match (
        resource.group.as_deref().unwrap_or(""),
        resource.kind.as_str(),
    ) {
        ("", "Service") => (
            vec![
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE",
            ],
            service_row,
        ),
        ("", "Pod") => (vec!["NAME", "READY", "STATUS", "RESTARTS", "AGE"], pod_row),
        ("apps", "Deployment") => (
            vec!["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
            deployment_row,
        ),
        ("apps", "StatefulSet") => (vec!["NAME", "READY", "AGE"], stateful_set_row),
        ("", "Namespace") => (vec!["NAME", "STATUS", "AGE"], namespace_row),
        ("", "Secret") => (vec!["NAME", "TYPE", "DATA", "AGE"], secret_row),
        ("", "ServiceAccount") => (vec!["NAME", "SECRETS", "AGE"], service_account_row),
        _ => (vec!["NAME", "AGE"], plain_row),
    };
    let mut header = header;
    let rows: Vec<Vec<String>> = objects
        .iter()
        .map(|object| {
            let mut row = cells(object, now);
            if all_namespaces && resource.namespaced {
                let ns = object["metadata"]["namespace"].as_str().unwrap_or("");
                row.insert(0, ns.to_string());
            }
            row
        })
        .collect();
    if all_namespaces && resource.namespaced {
        header.insert(0, "NAMESPACE");
    }
    render(&header, &rows)
}

/// An object's `metadata.name`, empty when it has none.
pub fn name_of(object: &Value) -> String {
    object["metadata"]["name"]
        .as_str()
        .unwrap_or("")
        .to_string()
}

fn age_of(object: &Value, now: u64) -> String {
    age(object["metadata"]["creationTimestamp"].as_str(), now)
}

fn plain_row(object: &Value, now: u64) -> Vec<String> {
    vec![name_of(object), age_of(object, now)]
}

fn service_row(object: &Value, now: u64) -> Vec<String> {
    let spec = &object["spec"];
    let kind = spec["type"].as_str().unwrap_or("ClusterIP");
    let cluster_ip = spec["clusterIP"]
        .as_str()
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    let ingress: Vec<String> = object["status"]["loadBalancer"]["ingress"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            i["ip"]
                .as_str()
                .or(i["hostname"].as_str())
                .map(str::to_string)
        })
        .chain(
            spec["externalIPs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|ip| ip.as_str().map(str::to_string)),
        )
        .collect();
    let external = match (kind, ingress.is_empty()) {
        ("ExternalName", _) => spec["externalName"]
            .as_str()
            .unwrap_or("<none>")
            .to_string(),
        ("LoadBalancer", true) => "<pending>".into(),
        (_, true) => "<none>".into(),
        (_, false) => ingress.join(","),
    };
    let ports: Vec<String> = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let port = p["port"].as_u64().unwrap_or(0);
            let protocol = p["protocol"].as_str().unwrap_or("TCP");
            match p["nodePort"].as_u64() {
                Some(node) => format!("{port}:{node}/{protocol}"),
                None => format!("{port}/{protocol}"),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".to_string()
    } else {
        ports.join(",")
    };
    vec![
        name_of(object),
        kind.to_string(),
        cluster_ip.to_string(),
        external,
        ports,
        age_of(object, now),
    ]
}

fn pod_row(object: &Value, now: u64) -> Vec<String> {
    let containers = object["spec"]["containers"].as_array().map_or(0, Vec::len);
    let statuses = object["status"]["containerStatuses"].as_array();
    let ready = statuses
        .into_iter()
        .flatten()
        .filter(|s| s["ready"].as_bool() == Some(true))
        .count();
    let restarts: u64 = statuses
        .into_iter()
        .flatten()
        .filter_map(|s| s["restartCount"].as_u64())
        .sum();
    let waiting = statuses
        .into_iter()
        .flatten()
        .find_map(|s| s["state"]["waiting"]["reason"].as_str());
    let status = if object["metadata"]["deletionTimestamp"].is_string() {
        "Terminating"
    } else {
        waiting
            .or(object["status"]["reason"].as_str())
            .or(object["status"]["phase"].as_str())
            .unwrap_or("Pending")
    };
    vec![
        name_of(object),
        format!("{ready}/{containers}"),
        status.to_string(),
        restarts.to_string(),
        age_of(object, now),
    ]
}

fn deployment_row(object: &Value, now: u64) -> Vec<String> {
    let status = &object["status"];
    let count = |v: &Value| v.as_u64().unwrap_or(0);
    let wanted = object["spec"]["replicas"].as_u64().unwrap_or(1);
    vec![
        name_of(object),
        format!("{}/{wanted}", count(&status["readyReplicas"])),
        count(&status["updatedReplicas"]).to_string(),
        count(&status["availableReplicas"]).to_string(),
        age_of(object, now),
    ]
}

fn stateful_set_row(object: &Value, now: u64) -> Vec<String> {
    let ready = object["status"]["readyReplicas"].as_u64().unwrap_or(0);
    let wanted = object["spec"]["replicas"].as_u64().unwrap_or(1);
    vec![
        name_of(object),
        format!("{ready}/{wanted}"),
        age_of(object, now),
    ]
}

fn namespace_row(object: &Value, now: u64) -> Vec<String> {
    let phase = object["status"]["phase"].as_str().unwrap_or("Active");
    vec![name_of(object), phase.to_string(), age_of(object, now)]
}

fn secret_row(object: &Value, now: u64) -> Vec<String> {
    let kind = object["type"].as_str().unwrap_or("Opaque");
    let data = object["data"].as_object().map_or(0, |d| d.len())
        + object["stringData"].as_object().map_or(0, |d| d.len());
    vec![
        name_of(object),
        kind.to_string(),
        data.to_string(),
        age_of(object, now),
    ]
}

fn service_account_row(object: &Value, now: u64) -> Vec<String> {
    let secrets = object["secrets"].as_array().map_or(0, Vec::len);
    vec![name_of(object), secrets.to_string(), age_of(object, now)]
}
