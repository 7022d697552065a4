use super::*;

fn object(yaml: &str) -> Value {
    serde_norway::from_str(yaml).expect("test YAML")
}

fn run(yaml: &str) -> (Value, Result<Report, ObjectError>) {
    let mut value = object(yaml);
    let report = inject_object(
        &mut value,
        &InjectOptions::new("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"),
    );
    (value, report)
}

/// The message `yaml` is refused with.
fn refusal(yaml: &str) -> String {
    match run(yaml).1 {
        Ok(report) => panic!("{yaml:?} was injected: {report:?}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_workload_without_containers_is_an_error_naming_the_field() {
    assert_eq!(
        refusal("kind: Deployment\nmetadata: {name: bb}\nspec:\n  template:\n    spec: {}\n"),
        "spec.template.spec.containers is missing"
    );
    assert!(matches!(
        run("kind: Deployment\nmetadata: {name: bb}\nspec: {}\n").1,
        Err(ObjectError::Missing(ref field)) if field == "spec.template"
    ));
    assert_eq!(
        refusal("kind: Pod\nspec:\n  containers: {a: 1}\n"),
        "spec.containers is not a list"
    );
    assert_eq!(
        refusal("kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template: []\n"),
        "spec.jobTemplate.spec.template is not an object"
    );
}

#[test]
fn null_metadata_fields_are_filled_in() {
    let (value, report) = run(
        "kind: ReplicaSet\nmetadata:\n  name: rs\nspec:\n  template:\n    metadata:\n      annotations:\n      labels:\n    spec:\n      containers:\n      - name: app\n      volumes:\n",
    );
    assert_eq!(report.map(|r| r.outcome).ok(), Some(Outcome::Injected));
    let pod = &value["spec"]["template"];
    assert_eq!(
        pod["metadata"]["labels"]["linkerd.io/proxy-replicaset"].as_str(),
        Some("rs")
    );
    assert_eq!(
        pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].as_str(),
        Some("app")
    );
    assert_eq!(pod["spec"]["volumes"].as_sequence().map(Vec::len), Some(2));
    // Without a namespace in the object, no workload-ns label is guessed.
    assert!(
        pod["metadata"]["labels"]
            .get("linkerd.io/workload-ns")
            .is_none()
    );
}

#[test]
fn the_proxy_goes_first_and_the_init_container_before_others() {
    let (value, _) = run(
        "kind: Pod\nmetadata:\n  name: p\n  annotations:\n    kubectl.kubernetes.io/default-container: side\nspec:\n  initContainers:\n  - name: migrate\n  containers:\n  - name: app\n  - name: side\n",
    );
    let names = |key: &str| -> Vec<String> {
        value["spec"][key]
            .as_sequence()
            .expect("list")
            .iter()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(names("containers"), ["linkerd-proxy", "app", "side"]);
    assert_eq!(names("initContainers"), ["linkerd-init", "migrate"]);
    // A default container the user chose stays.
    assert_eq!(
        value["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"].as_str(),
        Some("side")
    );
}

#[test]
fn skips_say_why() {
    let skipped = |yaml: &str| run(yaml).1.map(|r| r.outcome).ok();
    assert_eq!(
        skipped(
            "kind: Job\nmetadata:\n  annotations: {linkerd.io/inject: disabled}\nspec:\n  template:\n    spec:\n      containers: [{name: a}]\n"
        ),
        Some(Outcome::Skipped(Some(SkipReason::InjectDisabled)))
    );
    assert_eq!(
        skipped(
            "kind: Pod\nspec:\n  initContainers: [{name: linkerd-proxy, restartPolicy: Always}]\n  containers: [{name: a}]\n"
        ),
        Some(Outcome::Skipped(Some(SkipReason::AlreadyInjected)))
    );
    assert_eq!(
        skipped("kind: Service\nmetadata: {name: s}\n"),
        Some(Outcome::Skipped(None))
    );
    assert_eq!(
        skipped("metadata: {name: s}\n"),
        Some(Outcome::Skipped(None))
    );
}

#[test]
fn namespaces_are_annotated_even_when_disabled_as_linkerd_does() {
    let (value, report) = run(
        "kind: Namespace\nmetadata:\n  name: n\n  annotations:\n    linkerd.io/inject: disabled\n    other: x\n",
    );
    assert_eq!(report.map(|r| r.outcome).ok(), Some(Outcome::Annotated));
    let annotations = value["metadata"]["annotations"]
        .as_mapping()
        .expect("annotations");
    assert_eq!(annotations["linkerd.io/inject"].as_str(), Some("enabled"));
    // The existing key keeps its place.
    let keys: Vec<&str> = annotations.keys().filter_map(Value::as_str).collect();
    assert_eq!(keys, ["linkerd.io/inject", "other"]);
}
