use super::*;
use crate::testing::{documents, round_trip};

const ROUTE: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bb-allowed
  namespace: mc-demo
spec:
  parentRefs:
    - name: bb
      kind: Server
      group: policy.linkerd.io
  rules:
    - matches:
      - path:
          type: PathPrefix
          value: /allowed
"#;

#[test]
fn a_gateway_route_reads_as_linkerds() {
    let route: HttpRoute = round_trip(&documents(ROUTE)[0]);
    let parents = route.spec.0.parent_refs.unwrap_or_default();
    assert_eq!(parents[0].kind.as_deref(), Some("Server"));
    let rules = route.spec.0.rules.unwrap_or_default();
    let path = rules[0].matches.as_ref().and_then(|m| m[0].path.clone());
    assert_eq!(path.and_then(|p| p.value).as_deref(), Some("/allowed"));
}
