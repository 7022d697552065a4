use serde_json::json;

use super::*;
use crate::testing::{documents, refusal, round_trip};

/// Routes that per-route authorization targets, in the style of Linkerd's
/// booksapp guide, plus opaque filters, backends and timeouts.
const ROUTES: &str = r#"
apiVersion: policy.linkerd.io/v1beta3
kind: HTTPRoute
metadata:
  name: authors-get-route
  namespace: booksapp
spec:
  parentRefs:
    - name: authors-server
      kind: Server
      group: policy.linkerd.io
  hostnames: ["authors.booksapp.svc.cluster.local"]
  rules:
    - matches:
      - path:
          value: "/authors.json"
        method: GET
      - path:
          value: "/authors/"
          type: "PathPrefix"
        method: GET
        headers:
        - name: x-canary
          value: "1"
        queryParams:
        - type: RegularExpression
          name: page
          value: "[0-9]+"
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier:
          set:
          - name: x-route
            value: authors
      backendRefs:
      - name: authors
        port: 7001
        weight: 90
      timeouts:
        request: 10s
        backendRequest: 2s
status:
  parents:
  - parentRef:
      group: policy.linkerd.io
      kind: Server
      name: authors-server
    controllerName: linkerd.io/policy-controller
    conditions:
    - type: Accepted
      status: "True"
      reason: Accepted
      message: ""
      lastTransitionTime: "2025-05-06T07:08:09Z"
"#;

#[test]
fn a_route_attached_to_a_server_round_trips() {
    let route: HttpRoute = round_trip(&documents(ROUTES)[0]);
    let parent = &route.spec.parent_refs.unwrap_or_default()[0];
    assert_eq!(parent.kind.as_deref(), Some("Server"));
    assert_eq!(parent.name, "authors-server");

    let rules = route.spec.rules.unwrap_or_default();
    let matches = rules[0].matches.as_deref().unwrap_or_default();
    assert_eq!(matches[0].method, Some(HttpMethod::Get));
    assert_eq!(matches[0].path.as_ref().and_then(|p| p.type_), None);
    assert_eq!(
        matches[1].path,
        Some(PathMatch {
            type_: Some(PathMatchType::PathPrefix),
            value: Some("/authors/".into())
        })
    );
    let query = &matches[1].query_params.as_deref().unwrap_or_default()[0];
    assert_eq!(query.type_, Some(HeaderMatchType::RegularExpression));
    assert_eq!(
        rules[0].timeouts,
        Some(json!({"request": "10s", "backendRequest": "2s"}))
    );
    assert!(route.status.is_some());
}

#[test]
fn a_method_outside_the_gateway_api_is_refused_at_that_field() {
    let yaml = ROUTES.replacen("method: GET", "method: FETCH", 1);
    let err = refusal::<HttpRoute>(&yaml);
    assert!(
        err.starts_with("spec.rules[0].matches[0].method: unknown variant `FETCH`"),
        "{err}"
    );
}

#[test]
fn a_path_match_type_is_case_sensitive() {
    let yaml = ROUTES.replace(r#"type: "PathPrefix""#, "type: prefix");
    let err = refusal::<HttpRoute>(&yaml);
    assert!(
        err.starts_with("spec.rules[0].matches[1].path.type: unknown variant `prefix`"),
        "{err}"
    );
}
