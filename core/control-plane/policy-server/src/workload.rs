//! The workload a proxy names in its `PortSpec`.

use serde::Deserialize;

/// The pod a proxy runs in, as it names itself when asking for policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Workload {
    /// The pod's namespace.
    pub namespace: String,
    /// The pod's name.
    pub pod: String,
}

/// Why a `workload` string names no pod; the text says which part is wrong
/// so the proxy's logs point at the misconfiguration.
#[derive(Debug, thiserror::Error)]
pub enum InvalidWorkload {
    /// Neither of the two forms.
    #[error(
        "invalid workload: {0:?} is neither JSON {{\"ns\":…,\"pod\":…}} nor \"<namespace>:<pod>\""
    )]
    Form(String),
    /// JSON that is not a workload object.
    #[error("invalid workload: {text:?} is not a workload object: {source}")]
    Json {
        /// The text as sent.
        text: String,
        /// What the JSON reader said.
        #[source]
        source: serde_json::Error,
    },
    /// An external workload, which has no pod.
    #[error("invalid workload: field \"external_workload\": external workloads are not supported")]
    ExternalWorkload,
    /// `ns` or `pod` is absent.
    #[error("invalid workload: field {0:?} is missing")]
    Missing(&'static str),
    /// `ns` or `pod` is empty.
    #[error("invalid workload: field {0:?} is empty")]
    Empty(&'static str),
    /// A pod name with `:`, which no pod name has.
    #[error("invalid workload: field \"pod\" ({0:?}) contains ':'")]
    PodWithColon(String),
}

/// The JSON form current proxies send.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonWorkload {
    ns: Option<String>,
    pod: Option<String>,
    external_workload: Option<String>,
}

impl Workload {
    /// Reads `workload` in either form Linkerd's proxies use: JSON
    /// `{"ns":"…","pod":"…"}` (current proxies) or `ns:pod` (older ones).
    pub fn parse(workload: &str) -> Result<Workload, InvalidWorkload> {
        let trimmed = workload.trim();
        if trimmed.starts_with('{') {
            return Self::parse_json(trimmed);
        }
        match trimmed.split_once(':') {
            Some((namespace, pod)) => Self::checked(namespace, pod),
            None => Err(InvalidWorkload::Form(workload.to_string())),
        }
    }

    fn parse_json(text: &str) -> Result<Workload, InvalidWorkload> {
        let json: JsonWorkload =
            serde_json::from_str(text).map_err(|source| InvalidWorkload::Json {
                text: text.to_string(),
                source,
            })?;
        if json.external_workload.is_some() {
            return Err(InvalidWorkload::ExternalWorkload);
        }
        let namespace = json.ns.ok_or(InvalidWorkload::Missing("ns"))?;
        let pod = json.pod.ok_or(InvalidWorkload::Missing("pod"))?;
        Self::checked(&namespace, &pod)
    }

    /// Refuses empty parts, which would otherwise surface as a confusing
    /// NotFound for a pod with no name.
    fn checked(namespace: &str, pod: &str) -> Result<Workload, InvalidWorkload> {
        if namespace.is_empty() {
            return Err(InvalidWorkload::Empty("ns"));
        }
        if pod.is_empty() {
            return Err(InvalidWorkload::Empty("pod"));
        }
        if pod.contains(':') {
            return Err(InvalidWorkload::PodWithColon(pod.to_string()));
        }
        Ok(Workload {
            namespace: namespace.to_string(),
            pod: pod.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(namespace: &str, pod: &str) -> Option<Workload> {
        Some(Workload {
            namespace: namespace.into(),
            pod: pod.into(),
        })
    }

    fn refusal(text: &str) -> String {
        match Workload::parse(text) {
            Ok(w) => panic!("{text:?} was accepted as {w:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn both_forms_are_read() {
        assert_eq!(
            Workload::parse(r#"{"ns":"mc-demo","pod":"bb-1"}"#).ok(),
            ok("mc-demo", "bb-1")
        );
        assert_eq!(Workload::parse("mc-demo:bb-1").ok(), ok("mc-demo", "bb-1"));
    }

    #[test]
    fn refusals_name_the_bad_field() {
        assert!(refusal(r#"{"ns":"mc-demo"}"#).contains("\"pod\" is missing"));
        assert!(refusal(r#"{"pod":"bb-1"}"#).contains("\"ns\" is missing"));
        assert!(refusal(r#"{"ns":"","pod":"bb-1"}"#).contains("\"ns\" is empty"));
        assert!(refusal(":bb-1").contains("\"ns\" is empty"));
        assert!(refusal("mc-demo:").contains("\"pod\" is empty"));
        assert!(refusal("a:b:c").contains("\"pod\""));
        assert!(refusal("bb-1").contains("neither JSON"));
        assert!(refusal(r#"{"ns":"a","external_workload":"vm"}"#).contains("external_workload"));
        assert!(refusal(r#"{"ns":"a","pod":"b","x":1}"#).contains("not a workload object"));
    }
}
