use strait_mesh::names::PROXY_CONTAINER;

use super::*;

/// Trust anchors as a PEM block; injection copies them, never parses them.
const ANCHORS: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

fn options() -> InjectOptions {
    InjectOptions::new(ANCHORS)
}

#[test]
fn yaml_that_does_not_parse_names_the_source_document_and_line() {
    let input =
        "kind: Service\nmetadata: {name: a}\n---\nkind: Pod\nmetadata:\n  name: [unclosed\n";
    let err = inject(input, "app.yaml", &options()).unwrap_err();
    assert_eq!(err.source_name, "app.yaml");
    assert_eq!(err.document, 2);
    assert_eq!(err.line, 7, "{err}");
    let text = err.to_string();
    assert!(
        text.starts_with("app.yaml: document 2 (line 7): not valid YAML: "),
        "{text}"
    );
    assert!(text.contains("at line 7 column 1"), "{text}");
}

#[test]
fn a_workload_without_containers_is_named() {
    let input = "kind: Service\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bb}\nspec:\n  template:\n    spec: {}\n";
    let err = inject(input, "-", &options()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "-: document 2 (line 4): deployment/bb: spec.template.spec.containers is missing"
    );
}

#[test]
fn list_items_are_named_by_index_and_object() {
    let input = "kind: List\nitems:\n- kind: Pod\n  metadata: {name: p}\n  spec: {}\n";
    let err = inject(input, "in", &options()).unwrap_err();
    assert_eq!(
        err.reason.to_string(),
        "List: items[0]: pod/p: spec.containers is missing"
    );
    assert!(matches!(
        err.reason,
        DocumentError::Item { index: 0, source: ObjectError::Missing(ref field), .. }
            if field == "spec.containers"
    ));
    let err = inject("kind: List\nitems: 3\n", "in", &options()).unwrap_err();
    assert!(matches!(err.reason, DocumentError::ItemsNotAList), "{err}");
}

#[test]
fn documents_that_are_not_objects_are_refused() {
    let err = inject("- a\n- b\n", "in", &options()).unwrap_err();
    assert!(matches!(err.reason, DocumentError::NotAnObject), "{err}");
}

#[test]
fn injecting_twice_changes_nothing_the_second_time() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: n\nspec:\n  containers:\n  - name: app\n    image: app:1\n";
    let once = inject(input, "in", &options()).expect("first");
    assert_eq!(once.reports[0].outcome, Outcome::Injected);
    let twice = inject(&once.output, "in", &options()).expect("second");
    assert_eq!(twice.output, once.output);
    assert_eq!(
        twice.reports[0].outcome,
        Outcome::Skipped(Some(SkipReason::AlreadyInjected))
    );
}

#[test]
fn json_keeps_its_field_order() {
    let input = r#"{"kind": "Pod", "metadata": {"name": "p", "zz": 1, "aa": 2}, "spec": {"containers": [{"name": "app"}]}}"#;
    let out = inject(input, "in", &options()).expect("inject").output;
    let zz = out.find("zz:").expect("zz");
    let aa = out.find("aa:").expect("aa");
    assert!(zz < aa, "{out}");
    assert!(
        out.starts_with("kind: Pod\nmetadata:\n  name: p\n"),
        "{out}"
    );
}

#[test]
fn an_empty_stream_gives_empty_output() {
    let injected = inject("\n# nothing here\n", "in", &options()).expect("inject");
    assert_eq!(injected.output, "");
    assert!(injected.reports.is_empty());
}

#[test]
fn scalars_that_look_like_other_types_stay_strings() {
    let input = "kind: Pod\nmetadata:\n  name: p\n  labels:\n    a: \"on\"\n    b: \"yes\"\n    c: \"0123\"\n    d: \"1e3\"\n    e: \"null\"\n    f: \"~\"\n    g: \"true\"\n    h: \"0x1F\"\n    i: \"12:30\"\nspec:\n  containers:\n  - name: app\n    args: [\"--x=1\", \"*\", \"&a\", \"- b\", \"#c\", \"\"]\n";
    let out = inject(input, "in", &options()).expect("inject").output;
    assert!(out.contains("    a: \"on\"\n    b: \"yes\"\n"), "{out}");
    assert!(out.contains("    i: \"12:30\"\n"), "{out}");
    let before: Value = serde_norway::from_str(input).expect("input");
    let after: Value =
        serde_norway::from_str(out.trim_end_matches("---\n")).expect("output parses");
    for key in ["a", "b", "c", "d", "e", "f", "g", "h", "i"] {
        assert_eq!(
            after["metadata"]["labels"][key], before["metadata"]["labels"][key],
            "label {key} in:\n{out}"
        );
    }
    assert_eq!(
        after["spec"]["containers"][1]["args"],
        before["spec"]["containers"][0]["args"]
    );
}

#[test]
fn the_proxy_carries_the_trust_anchors_themselves() {
    let input = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: mc-demo\nspec:\n  containers:\n  - name: app\n    image: app:1\n";
    let out = inject(input, "in", &options()).expect("inject").output;
    let pod: k8s_openapi::api::core::v1::Pod =
        serde_norway::from_str(out.trim_end_matches("---\n")).expect("a Pod");
    let proxy = pod
        .spec
        .iter()
        .flat_map(|spec| &spec.containers)
        .find(|c| c.name == PROXY_CONTAINER)
        .expect("a proxy container");
    let anchors = proxy
        .env
        .iter()
        .flatten()
        .find(|v| v.name == "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS")
        .expect("the trust anchors variable");
    // A value, not a reference: mc-demo has no copy of the control plane's
    // trust-roots ConfigMap.
    assert_eq!(anchors.value.as_deref(), Some(ANCHORS));
    assert!(anchors.value_from.is_none());
}

/// The proxy container's start hook, if any, of the one Pod in `out`.
fn start_hook(out: &str) -> Option<Vec<String>> {
    let pod: k8s_openapi::api::core::v1::Pod =
        serde_norway::from_str(out.trim_end_matches("---\n")).expect("a Pod");
    pod.spec?
        .containers
        .into_iter()
        .find(|c| c.name == PROXY_CONTAINER)?
        .lifecycle?
        .post_start?
        .exec?
        .command
}

#[test]
fn the_application_waits_for_the_proxy_unless_the_workload_says_not_to() {
    let pod = |annotations: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n{annotations}spec:\n  containers:\n  - name: app\n    image: app:1\n"
        )
    };
    let out = inject(&pod(""), "in", &options()).expect("inject").output;
    assert_eq!(
        start_hook(&out),
        Some(vec![
            strait_api::image::STRAIT_BIN.to_string(),
            "proxy-await".to_string(),
            format!("--timeout={PROXY_AWAIT_TIMEOUT}"),
        ])
    );
    let disabled = pod(&format!("  annotations:\n    {PROXY_AWAIT}: disabled\n"));
    let out = inject(&disabled, "in", &options()).expect("inject").output;
    assert_eq!(start_hook(&out), None, "{out}");
}

/// The init container adds only what iptables needs and drops every other
/// capability: as close to Pod Security's "restricted" as rewriting a
/// pod's iptables allows.
#[test]
fn the_init_container_keeps_only_the_capabilities_iptables_needs() {
    let container = crate::sidecar::init_container(&options());
    let security = container.security_context.expect("a security context");
    assert_eq!(security.allow_privilege_escalation, Some(false));
    assert_eq!(security.privileged, Some(false));
    let capabilities = security.capabilities.expect("capabilities");
    assert_eq!(capabilities.drop, Some(vec!["ALL".to_string()]));
    assert_eq!(
        capabilities.add,
        Some(vec!["NET_ADMIN".to_string(), "NET_RAW".to_string()])
    );
}
