use super::*;

const NOW: u64 = 1_000_000;
const CREATED: &str = "1970-01-12T13:44:46Z"; // 999_886: 114s before NOW

fn kind(group: &str, kind: &str, plural: &str) -> StoredKind {
    StoredKind {
        group: group.into(),
        kind: kind.into(),
        plural: plural.into(),
        namespaced: true,
    }
}

fn options(include_object: IncludeObject) -> TableOptions<'static> {
    TableOptions {
        printer_columns: None,
        include_object,
        resource_version: "42",
        now_secs: NOW,
    }
}

fn headers(table: &Value) -> Vec<(String, i64)> {
    table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["priority"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn service() -> Arc<Value> {
    Arc::new(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "bb-target", "namespace": "default", "creationTimestamp": CREATED},
        "spec": {"type": "ClusterIP", "clusterIP": "10.43.56.245",
                 "ports": [{"port": 8080, "protocol": "TCP"}], "selector": {"app": "bb", "tier": "a"}},
    }))
}

#[test]
fn services_have_kubectls_columns_and_cells() {
    let table = table(
        &kind("", "Service", "services"),
        &[service()],
        &options(IncludeObject::Metadata),
    );
    assert_eq!(table["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["metadata"]["resourceVersion"], "42");
    let names: Vec<String> = headers(&table).into_iter().map(|h| h.0).collect();
    assert_eq!(
        names,
        [
            "Name",
            "Type",
            "Cluster-IP",
            "External-IP",
            "Port(s)",
            "Age",
            "Selector"
        ]
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!([
            "bb-target",
            "ClusterIP",
            "10.43.56.245",
            "<none>",
            "8080/TCP",
            "114s",
            "app=bb,tier=a"
        ])
    );
}

#[test]
fn node_ports_and_portless_services_print_as_kubectl() {
    let object = Arc::new(json!({
        "metadata": {"name": "np"},
        "spec": {"type": "NodePort", "ports": [{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}]},
    }));
    let headless = Arc::new(json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}}));
    let lb = Arc::new(json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer"}}));
    let table = table(
        &kind("", "Service", "services"),
        &[object, headless, lb],
        &options(IncludeObject::None),
    );
    assert_eq!(table["rows"][0]["cells"][4], "80:30080/TCP,53/UDP");
    assert_eq!(table["rows"][0]["cells"][5], "<unknown>");
    assert_eq!(table["rows"][1]["cells"][2], "None");
    assert_eq!(table["rows"][1]["cells"][4], "<none>");
    assert_eq!(table["rows"][2]["cells"][3], "<pending>");
}

#[test]
fn pods_show_readiness_status_and_wide_placement() {
    let pod = Arc::new(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": "default", "creationTimestamp": CREATED},
        "spec": {"nodeName": "strait", "containers": [{"name": "app"}, {"name": "linkerd-proxy"}]},
        "status": {"phase": "Running", "podIP": "10.0.0.7", "containerStatuses": [
            {"name": "app", "ready": true, "restartCount": 1, "state": {"running": {}}},
            {"name": "linkerd-proxy", "ready": false, "restartCount": 2,
             "state": {"waiting": {"reason": "CrashLoopBackOff"}}},
        ]},
    }));
    let table = table(
        &kind("", "Pod", "pods"),
        &[pod],
        &options(IncludeObject::Metadata),
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!([
            "web-0",
            "1/2",
            "CrashLoopBackOff",
            "3",
            "114s",
            "10.0.0.7",
            "strait",
            "<none>",
            "<none>"
        ])
    );
    let wide: Vec<String> = headers(&table)
        .into_iter()
        .filter(|h| h.1 == 1)
        .map(|h| h.0)
        .collect();
    assert_eq!(wide, ["IP", "Node", "Nominated Node", "Readiness Gates"]);
}

#[test]
fn pods_waiting_on_init_containers_or_deleted_say_so() {
    let init = Arc::new(json!({
        "metadata": {"name": "a"},
        "spec": {"initContainers": [{"name": "init"}], "containers": [{"name": "app"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [{"state": {"running": {}}}]},
    }));
    let deleting = Arc::new(json!({
        "metadata": {"name": "b", "deletionTimestamp": CREATED},
        "spec": {"containers": [{"name": "app"}]},
        "status": {"phase": "Running"},
    }));
    let table = table(
        &kind("", "Pod", "pods"),
        &[init, deleting],
        &options(IncludeObject::None),
    );
    assert_eq!(table["rows"][0]["cells"][2], "Init:0/1");
    assert_eq!(table["rows"][1]["cells"][2], "Terminating");
}

#[test]
fn deployments_show_ready_of_desired_and_wide_template() {
    let deployment = Arc::new(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": CREATED},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [
                     {"name": "app", "image": "nginx:1"}, {"name": "side", "image": "busybox"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }));
    let table = table(
        &kind("apps", "Deployment", "deployments"),
        &[deployment],
        &options(IncludeObject::None),
    );
    assert_eq!(
        table["rows"][0]["cells"],
        json!([
            "web",
            "2/3",
            3,
            2,
            "114s",
            "app,side",
            "nginx:1,busybox",
            "app=web"
        ])
    );
    let wide: Vec<String> = headers(&table)
        .into_iter()
        .filter(|h| h.1 == 1)
        .map(|h| h.0)
        .collect();
    assert_eq!(wide, ["Containers", "Images", "Selector"]);
}

#[test]
fn simple_kinds_have_their_printer_columns() {
    let secret = Arc::new(
        json!({"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"a": "", "b": ""}}),
    );
    let t = table(
        &kind("", "Secret", "secrets"),
        &[secret],
        &options(IncludeObject::None),
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["s", "kubernetes.io/tls", 2, "<unknown>"])
    );
    let ns = Arc::new(json!({"metadata": {"name": "default"}, "status": {"phase": "Active"}}));
    let t = table(
        &kind("", "Namespace", "namespaces"),
        &[ns],
        &options(IncludeObject::None),
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["default", "Active", "<unknown>"])
    );
    let ep = Arc::new(json!({"metadata": {"name": "e"}, "subsets": [{
        "addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}],
        "ports": [{"port": 80}, {"port": 443}]}]}));
    let t = table(
        &kind("", "Endpoints", "endpoints"),
        &[ep],
        &options(IncludeObject::None),
    );
    assert_eq!(
        t["rows"][0]["cells"][1],
        "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."
    );
    let crd = Arc::new(
        json!({"metadata": {"name": "links.multicluster.linkerd.io", "creationTimestamp": CREATED}}),
    );
    let t = table(
        &kind(
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
            "customresourcedefinitions",
        ),
        &[crd],
        &options(IncludeObject::None),
    );
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["links.multicluster.linkerd.io", CREATED])
    );
}

#[test]
fn custom_resources_use_their_crds_printer_columns() {
    let columns = json!([
        {"name": "Cluster", "type": "string", "jsonPath": ".spec.targetClusterName"},
        {"name": "Probes", "type": "integer", "jsonPath": ".spec.probeSpec.port"},
        {"name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"},
        {"name": "Mode", "type": "string", "jsonPath": ".spec.mode", "priority": 1},
        {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    ]);
    let link = Arc::new(json!({
        "metadata": {"name": "east", "creationTimestamp": CREATED},
        "spec": {"targetClusterName": "east", "probeSpec": {"port": 4191}},
        "status": {"conditions": [{"type": "Other", "status": "False"}, {"type": "Ready", "status": "True"}]},
    }));
    let options = TableOptions {
        printer_columns: Some(&columns),
        ..options(IncludeObject::None)
    };
    let t = table(
        &kind("multicluster.linkerd.io", "Link", "links"),
        &[link],
        &options,
    );
    assert_eq!(
        headers(&t),
        [
            ("Name".to_string(), 0),
            ("Cluster".into(), 0),
            ("Probes".into(), 0),
            ("Ready".into(), 0),
            ("Mode".into(), 1),
            ("Age".into(), 0)
        ]
    );
    assert_eq!(t["columnDefinitions"][5]["type"], "date");
    assert_eq!(
        t["rows"][0]["cells"],
        json!(["east", "east", 4191, "True", null, "114s"])
    );
}

#[test]
fn custom_resources_without_columns_get_name_and_age() {
    let object = Arc::new(json!({"metadata": {"name": "x", "creationTimestamp": CREATED}}));
    let t = table(
        &kind("example.com", "Widget", "widgets"),
        &[object],
        &options(IncludeObject::None),
    );
    assert_eq!(headers(&t), [("Name".to_string(), 0), ("Age".into(), 0)]);
    assert_eq!(t["rows"][0]["cells"], json!(["x", "114s"]));
}

#[test]
fn include_object_selects_what_rows_carry() {
    let kind = kind("", "Service", "services");
    let t = table(&kind, &[service()], &options(IncludeObject::Metadata));
    let object = &t["rows"][0]["object"];
    assert_eq!(object["kind"], "PartialObjectMetadata");
    assert_eq!(object["apiVersion"], "meta.k8s.io/v1");
    assert_eq!(object["metadata"]["name"], "bb-target");
    assert!(object.get("spec").is_none());
    let t = table(&kind, &[service()], &options(IncludeObject::Object));
    assert_eq!(t["rows"][0]["object"], *service());
    let t = table(&kind, &[service()], &options(IncludeObject::None));
    assert!(t["rows"][0]["object"].is_null());
    assert_eq!(
        IncludeObject::from_query(Some("Object")),
        IncludeObject::Object
    );
    assert_eq!(IncludeObject::from_query(Some("None")), IncludeObject::None);
    assert_eq!(IncludeObject::from_query(None), IncludeObject::Metadata);
}

#[test]
fn malformed_objects_do_not_panic() {
    for kind in [
        kind("", "Pod", "pods"),
        kind("", "Service", "services"),
        kind("apps", "DaemonSet", "daemonsets"),
        kind("", "Event", "events"),
        kind("discovery.k8s.io", "EndpointSlice", "endpointslices"),
    ] {
        let objects = [
            Arc::new(json!(null)),
            Arc::new(json!([1, 2])),
            Arc::new(json!({"spec": 3, "status": "x"})),
        ];
        let t = table(&kind, &objects, &options(IncludeObject::Metadata));
        assert_eq!(t["rows"].as_array().unwrap().len(), 3);
    }
    let columns =
        json!([{"name": "X", "jsonPath": "[[["}, {"name": "Y", "jsonPath": ".a[?(@.b)]"}]);
    let options = TableOptions {
        printer_columns: Some(&columns),
        ..options(IncludeObject::None)
    };
    let t = table(
        &kind("e.com", "W", "ws"),
        &[Arc::new(json!({"a": [1]}))],
        &options,
    );
    assert_eq!(t["rows"][0]["cells"], json!(["", null, null]));
}

#[test]
fn ages_match_kubectl() {
    assert_eq!(human_duration(0), "0s");
    assert_eq!(human_duration(114), "114s");
    assert_eq!(human_duration(119), "119s");
    assert_eq!(human_duration(120), "2m");
    assert_eq!(human_duration(312), "5m12s");
    assert_eq!(human_duration(600), "10m");
    assert_eq!(human_duration(179 * 60), "179m");
    assert_eq!(human_duration(3 * 3600), "3h");
    assert_eq!(human_duration(3 * 3600 + 25 * 60), "3h25m");
    assert_eq!(human_duration(20 * 3600), "20h");
    assert_eq!(human_duration(2 * 86_400), "2d");
    assert_eq!(human_duration(2 * 86_400 + 5 * 3600), "2d5h");
    assert_eq!(human_duration(30 * 86_400), "30d");
    assert_eq!(human_duration(3 * 365 * 86_400), "3y");
}

#[test]
fn ages_are_read_from_creation_timestamps() {
    assert_eq!(age(Some("1970-01-01T00:00:00Z"), 114), "114s");
    assert_eq!(age(None, 114), "<unknown>");
}
