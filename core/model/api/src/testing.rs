//! Helpers for the resource tests: decoding manifests as `kubectl apply`
//! would receive them, and checking that they are written back unchanged.

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Decodes every document of a multi-document YAML manifest, each as its own
/// JSON value, in order.
pub fn documents(yaml: &str) -> Vec<serde_json::Value> {
    serde_norway::Deserializer::from_str(yaml)
        .map(|document| {
            serde::Deserialize::deserialize(document).unwrap_or_else(|e| panic!("YAML: {e}"))
        })
        .collect()
}

/// Why a manifest did not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The text is not YAML.
    #[error(transparent)]
    Yaml(#[from] serde_norway::Error),
    /// A field does not fit the type; the message starts with its path.
    #[error("{}: {}", .0.path(), .0.inner())]
    Field(#[from] serde_path_to_error::Error<serde_json::Error>),
}

/// Decodes `yaml` (one document) as `T` the way a controller receives it:
/// `kubectl` turns the YAML into JSON (so `4143` is a number, not the text
/// "4143") and the API server hands out JSON. The error starts with the
/// path of the offending field, e.g. `spec.gatewayPort: invalid type: ...`.
pub fn decode<T: DeserializeOwned>(yaml: &str) -> Result<T, DecodeError> {
    let json: serde_json::Value = serde_norway::from_str(yaml)?;
    Ok(serde_path_to_error::deserialize(json)?)
}

/// The message `yaml` is refused with as a `T`; panics when it decodes, so
/// a test of a refusal cannot pass on an accepted manifest.
pub fn refusal<T: DeserializeOwned + std::fmt::Debug>(yaml: &str) -> String {
    match decode::<T>(yaml) {
        Ok(decoded) => panic!("decoded as {decoded:?}"),
        Err(error) => error.to_string(),
    }
}

/// Decodes `document` as `T` and checks that writing it back gives the same
/// document: no field lost, renamed or added.
pub fn round_trip<T: DeserializeOwned + Serialize>(document: &serde_json::Value) -> T {
    let text = serde_norway::to_string(document).unwrap_or_else(|e| panic!("YAML: {e}"));
    let decoded: T = decode(&text).unwrap_or_else(|e| panic!("{e}\nin:\n{text}"));
    let written = serde_json::to_value(&decoded).unwrap_or_else(|e| panic!("JSON: {e}"));
    assert_eq!(&written, document, "written back differently");
    decoded
}

/// Step 6 of Linkerd's pod-to-pod guide, verbatim: the Server, the
/// AuthorizationPolicy and the MeshTLSAuthentication that admit only
/// `slow-cooker` to `bb`.
pub const POD_TO_POD_POLICY: &str = "\
---
apiVersion: policy.linkerd.io/v1beta1
kind: Server
metadata:
  namespace: mc-demo
  name: bb
spec:
  podSelector:
    matchLabels:
      app: bb
  port: 8080
---
apiVersion: policy.linkerd.io/v1alpha1
kind: AuthorizationPolicy
metadata:
  namespace: mc-demo
  name: bb-authz
spec:
  targetRef:
    group: policy.linkerd.io
    kind: Server
    name: bb
  requiredAuthenticationRefs:
    - group: policy.linkerd.io
      kind: MeshTLSAuthentication
      name: bb-good
---
apiVersion: policy.linkerd.io/v1alpha1
kind: MeshTLSAuthentication
metadata:
  namespace: mc-demo
  name: bb-good
spec:
  identities:
  - 'slow-cooker.mc-demo.serviceaccount.identity.linkerd.cluster.local'
";

/// The guide's document of the given kind.
pub fn pod_to_pod_document(kind: &str) -> serde_json::Value {
    documents(POD_TO_POD_POLICY)
        .into_iter()
        .find(|document| document["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in the guide"))
}
