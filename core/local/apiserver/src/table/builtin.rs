//! The API server's printers for the built-in kinds strait stores: the same
//! columns, cells and placeholders (`<none>`, `<pending>`) kubectl shows
//! against a real cluster, so scripts and eyes see no difference.

mod pod;

use std::collections::BTreeMap;

use serde_json::Value;
use strait_store::StoredKind;

use super::{Cells, Column, age_of, int_at, name, str_at};

/// The columns and row printer of a built-in kind, `None` for other kinds.
pub(super) fn printer(kind: &StoredKind) -> Option<(Vec<Column>, Cells)> {
    let (columns, cells): (Vec<Column>, Cells) = match (kind.group.as_str(), kind.kind.as_str()) {
        ("", "Service") => (service_columns(), service_row),
        ("", "Pod") => (pod::columns(), pod::row),
        ("apps", "Deployment") => (deployment_columns(), deployment_row),
        ("apps", "ReplicaSet") => (replica_set_columns(), replica_set_row),
        ("apps", "StatefulSet") => (stateful_set_columns(), stateful_set_row),
        ("apps", "DaemonSet") => (daemon_set_columns(), daemon_set_row),
        ("", "Namespace") => (with_name_age(&[("Status", "string")]), namespace_row),
        ("", "Secret") => (
            with_name_age(&[("Type", "string"), ("Data", "string")]),
            secret_row,
        ),
        ("", "ServiceAccount") => (with_name_age(&[("Secrets", "string")]), service_account_row),
        ("", "ConfigMap") => (with_name_age(&[("Data", "string")]), config_map_row),
        ("", "Endpoints") => (with_name_age(&[("Endpoints", "string")]), endpoints_row),
        ("discovery.k8s.io", "EndpointSlice") => (
            with_name_age(&[
                ("AddressType", "string"),
                ("Ports", "string"),
                ("Endpoints", "string"),
            ]),
            endpoint_slice_row,
        ),
        ("", "Event") => (event_columns(), event_row),
        ("apiextensions.k8s.io", "CustomResourceDefinition") => (
            vec![
                Column::name(),
                Column::new("Created At", "date", super::CREATED_DESCRIPTION, 0),
            ],
            crd_row,
        ),
        _ => return None,
    };
    Some((columns, cells))
}

/// Name, the given columns, Age: the shape of most printers.
fn with_name_age(middle: &[(&str, &'static str)]) -> Vec<Column> {
    let mut columns = vec![Column::name()];
    columns.extend(middle.iter().map(|(n, t)| Column::new(n, t, "", 0)));
    columns.push(Column::age());
    columns
}

fn wide(name: &str, description: &str) -> Column {
    Column::new(name, "string", description, 1)
}

fn service_columns() -> Vec<Column> {
    let mut columns = with_name_age(&[
        ("Type", "string"),
        ("Cluster-IP", "string"),
        ("External-IP", "string"),
        ("Port(s)", "string"),
    ]);
    columns.push(wide(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector.",
    ));
    columns
}

fn service_row(object: &Value, now: u64) -> Vec<Value> {
    let spec = &object["spec"];
    let kind = Some(str_at(spec, &["type"]))
        .filter(|t| !t.is_empty())
        .unwrap_or("ClusterIP");
    let cluster_ip = spec["clusterIPs"][0]
        .as_str()
        .or(spec["clusterIP"].as_str())
        .filter(|ip| !ip.is_empty())
        .unwrap_or("<none>");
    vec![
        name(object),
        kind.into(),
        cluster_ip.into(),
        external_ip(object, kind).into(),
        ports(spec).into(),
        age_of(object, now),
        format_labels(&spec["selector"]).into(),
    ]
}

/// The External-IP cell: external IPs, load balancer ingress (`<pending>`
/// until there is one) or the external name, by service type.
fn external_ip(object: &Value, kind: &str) -> String {
    let external = strings(&object["spec"]["externalIPs"]);
    match kind {
        "ClusterIP" | "NodePort" if external.is_empty() => "<none>".into(),
        "ClusterIP" | "NodePort" => external.join(","),
        "LoadBalancer" => {
            let mut ips: Vec<String> = object["status"]["loadBalancer"]["ingress"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            ips.extend(external);
            if ips.is_empty() {
                "<pending>".into()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => str_at(object, &["spec", "externalName"]).into(),
        _ => "<unknown>".into(),
    }
}

/// `80/TCP`, `80:30080/TCP`, comma-separated; `<none>` without ports.
fn ports(spec: &Value) -> String {
    let pieces: Vec<String> = spec["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|port| {
            let protocol = Some(str_at(port, &["protocol"]))
                .filter(|p| !p.is_empty())
                .unwrap_or("TCP");
            let number = int_at(port, &["port"]);
            match int_at(port, &["nodePort"]) {
                node if node > 0 => format!("{number}:{node}/{protocol}"),
                _ => format!("{number}/{protocol}"),
            }
        })
        .collect();
    if pieces.is_empty() {
        "<none>".into()
    } else {
        pieces.join(",")
    }
}

/// The string items of an array, skipping anything else.
pub(super) fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// `k=v,k2=v2` sorted by key, as `labels.FormatLabels`; `<none>` if empty.
fn format_labels(map: &Value) -> String {
    let labels: BTreeMap<&str, &str> = map
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap_or("")))
        .collect();
    if labels.is_empty() {
        return "<none>".into();
    }
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(",")
}

/// A `LabelSelector` as `metav1.LabelSelectorAsSelector(...).String()`.
fn format_selector(selector: &Value) -> String {
    let mut parts: Vec<String> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    for expression in selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let key = str_at(expression, &["key"]);
        let values = strings(&expression["values"]).join(",");
        parts.push(match str_at(expression, &["operator"]) {
            "In" => format!("{key} in ({values})"),
            "NotIn" => format!("{key} notin ({values})"),
            "DoesNotExist" => format!("!{key}"),
            _ => key.to_string(),
        });
    }
    parts.sort();
    parts.join(",")
}

/// The Containers and Images cells of a pod template.
fn containers_images(template: &Value) -> (Value, Value) {
    let containers = template["spec"]["containers"].as_array();
    let field = |key: &str| -> Value {
        let names: Vec<&str> = containers
            .into_iter()
            .flatten()
            .map(|c| str_at(c, &[key]))
            .collect();
        names.join(",").into()
    };
    (field("name"), field("image"))
}

fn workload_wide(columns: &mut Vec<Column>, selector: bool) {
    columns.push(wide(
        "Containers",
        "Names of each container in the template.",
    ));
    columns.push(wide(
        "Images",
        "Images referenced by each container in the template.",
    ));
    if selector {
        columns.push(wide("Selector", "Label selector for pods."));
    }
}

/// `spec.replicas`, defaulted to 1 as the API server defaults it.
fn desired(object: &Value) -> i64 {
    object["spec"]["replicas"].as_i64().unwrap_or(1)
}

fn deployment_columns() -> Vec<Column> {
    let mut columns = with_name_age(&[
        ("Ready", "string"),
        ("Up-to-date", "string"),
        ("Available", "string"),
    ]);
    workload_wide(&mut columns, true);
    columns
}

fn deployment_row(object: &Value, now: u64) -> Vec<Value> {
    let status = &object["status"];
    let (containers, images) = containers_images(&object["spec"]["template"]);
    vec![
        name(object),
        format!("{}/{}", int_at(status, &["readyReplicas"]), desired(object)).into(),
        int_at(status, &["updatedReplicas"]).into(),
        int_at(status, &["availableReplicas"]).into(),
        age_of(object, now),
        containers,
        images,
        format_selector(&object["spec"]["selector"]).into(),
    ]
}

fn replica_set_columns() -> Vec<Column> {
    let mut columns = with_name_age(&[
        ("Desired", "integer"),
        ("Current", "integer"),
        ("Ready", "integer"),
    ]);
    workload_wide(&mut columns, true);
    columns
}

fn replica_set_row(object: &Value, now: u64) -> Vec<Value> {
    let status = &object["status"];
    let (containers, images) = containers_images(&object["spec"]["template"]);
    vec![
        name(object),
        desired(object).into(),
        int_at(status, &["replicas"]).into(),
        int_at(status, &["readyReplicas"]).into(),
        age_of(object, now),
        containers,
        images,
        format_selector(&object["spec"]["selector"]).into(),
    ]
}

fn stateful_set_columns() -> Vec<Column> {
    let mut columns = with_name_age(&[("Ready", "string")]);
    workload_wide(&mut columns, false);
    columns
}

fn stateful_set_row(object: &Value, now: u64) -> Vec<Value> {
    let (containers, images) = containers_images(&object["spec"]["template"]);
    vec![
        name(object),
        format!(
            "{}/{}",
            int_at(object, &["status", "readyReplicas"]),
            desired(object)
        )
        .into(),
        age_of(object, now),
        containers,
        images,
    ]
}

fn daemon_set_columns() -> Vec<Column> {
    let mut columns = with_name_age(&[
        ("Desired", "integer"),
        ("Current", "integer"),
        ("Ready", "integer"),
        ("Up-to-date", "integer"),
        ("Available", "integer"),
        ("Node Selector", "string"),
    ]);
    workload_wide(&mut columns, true);
    columns
}

fn daemon_set_row(object: &Value, now: u64) -> Vec<Value> {
    let status = &object["status"];
    let template = &object["spec"]["template"];
    let (containers, images) = containers_images(template);
    vec![
        name(object),
        int_at(status, &["desiredNumberScheduled"]).into(),
        int_at(status, &["currentNumberScheduled"]).into(),
        int_at(status, &["numberReady"]).into(),
        int_at(status, &["updatedNumberScheduled"]).into(),
        int_at(status, &["numberAvailable"]).into(),
        format_labels(&template["spec"]["nodeSelector"]).into(),
        age_of(object, now),
        containers,
        images,
        format_selector(&object["spec"]["selector"]).into(),
    ]
}

fn namespace_row(object: &Value, now: u64) -> Vec<Value> {
    let phase = Some(str_at(object, &["status", "phase"]))
        .filter(|p| !p.is_empty())
        .unwrap_or("Active");
    vec![name(object), phase.into(), age_of(object, now)]
}

/// The number of keys of an object field, as `len(map)`.
fn len_of(value: &Value) -> usize {
    value.as_object().map_or(0, |m| m.len())
}

fn secret_row(object: &Value, now: u64) -> Vec<Value> {
    let kind = Some(str_at(object, &["type"]))
        .filter(|t| !t.is_empty())
        .unwrap_or("Opaque");
    vec![
        name(object),
        kind.into(),
        len_of(&object["data"]).into(),
        age_of(object, now),
    ]
}

fn service_account_row(object: &Value, now: u64) -> Vec<Value> {
    let secrets = object["secrets"].as_array().map_or(0, Vec::len);
    vec![name(object), secrets.into(), age_of(object, now)]
}

fn config_map_row(object: &Value, now: u64) -> Vec<Value> {
    let data = len_of(&object["data"]) + len_of(&object["binaryData"]);
    vec![name(object), data.into(), age_of(object, now)]
}

/// `ip:port` pairs, at most three then ` + N more...`, as kubectl shows
/// them; `<none>` without subsets.
fn endpoints_row(object: &Value, now: u64) -> Vec<Value> {
    let Some(subsets) = object["subsets"].as_array().filter(|s| !s.is_empty()) else {
        return vec![name(object), "<none>".into(), age_of(object, now)];
    };
    let mut all = Vec::new();
    for subset in subsets {
        let ips = subset["addresses"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| str_at(a, &["ip"]));
        match subset["ports"].as_array().filter(|p| !p.is_empty()) {
            None => all.extend(ips.map(str::to_string)),
            Some(ports) => {
                for port in ports {
                    let number = int_at(port, &["port"]);
                    all.extend(ips.clone().map(|ip| join_host_port(ip, number)));
                }
            }
        }
    }
    vec![
        name(object),
        at_most_three(&all).into(),
        age_of(object, now),
    ]
}

/// `host:port`, with brackets around IPv6 hosts as `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The first three items, comma-separated, then ` + N more...`.
fn at_most_three(items: &[String]) -> String {
    let shown = items.iter().take(3).cloned().collect::<Vec<_>>().join(",");
    match items.len() {
        n if n > 3 => format!("{shown} + {} more...", n - 3),
        _ => shown,
    }
}

fn endpoint_slice_row(object: &Value, now: u64) -> Vec<Value> {
    let ports: Vec<String> = object["ports"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| match p["port"].as_i64() {
            Some(port) => port.to_string(),
            None => "<unset>".into(),
        })
        .collect();
    let endpoints: Vec<String> = object["endpoints"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| strings(&e["addresses"]))
        .collect();
    let unset = |items: &[String]| match items {
        [] => "<unset>".to_string(),
        items => at_most_three(items),
    };
    vec![
        name(object),
        str_at(object, &["addressType"]).into(),
        unset(&ports).into(),
        unset(&endpoints).into(),
        age_of(object, now),
    ]
}

fn event_columns() -> Vec<Column> {
    vec![
        Column::new("Last Seen", "string", "", 0),
        Column::new("Type", "string", "", 0),
        Column::new("Reason", "string", "", 0),
        Column::new("Object", "string", "", 0),
        Column::new("Message", "string", "", 0),
        wide("Subobject", ""),
        wide("Source", ""),
        wide("First Seen", ""),
        Column::new("Count", "integer", "", 1),
        Column {
            format: "name".into(),
            ..wide("Name", super::NAME_DESCRIPTION)
        },
    ]
}

/// A core/v1 Event: last seen from `lastTimestamp`, else the first time
/// (`firstTimestamp` or `eventTime`), else `series.lastObservedTime`.
fn event_row(object: &Value, now: u64) -> Vec<Value> {
    let at = |key: &str| Some(str_at(object, &[key])).filter(|s| !s.is_empty());
    let first = at("firstTimestamp").or(at("eventTime"));
    let series = Some(str_at(object, &["series", "lastObservedTime"])).filter(|s| !s.is_empty());
    let last = series.or(at("lastTimestamp")).or(first);
    let count = match object["series"]["count"].as_i64() {
        Some(count) => count,
        None => int_at(object, &["count"]).max(1),
    };
    let involved = &object["involvedObject"];
    let source = [
        str_at(object, &["source", "component"]),
        str_at(object, &["source", "host"]),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    vec![
        super::age(last, now).into(),
        str_at(object, &["type"]).into(),
        str_at(object, &["reason"]).into(),
        format!(
            "{}/{}",
            str_at(involved, &["kind"]).to_ascii_lowercase(),
            str_at(involved, &["name"])
        )
        .into(),
        str_at(object, &["message"]).into(),
        str_at(involved, &["fieldPath"]).into(),
        source.into(),
        super::age(first, now).into(),
        count.into(),
        name(object),
    ]
}

/// A CRD's creation time in RFC 3339, as the default table convertor.
fn crd_row(object: &Value, _now: u64) -> Vec<Value> {
    vec![
        name(object),
        str_at(object, &["metadata", "creationTimestamp"]).into(),
    ]
}
