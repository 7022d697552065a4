//! The workload a proxy names in its `PortSpec`.

use std::fmt;

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidWorkload(pub String);

impl fmt::Display for InvalidWorkload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid workload: {}", self.0)
    }
}

impl std::error::Error for InvalidWorkload {}

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
            None => Err(InvalidWorkload(format!(
                "{workload:?} is neither JSON {{\"ns\":…,\"pod\":…}} nor \"<namespace>:<pod>\""
            ))),
        }
    }

    fn parse_json(text: &str) -> Result<Workload, InvalidWorkload> {
        let json: JsonWorkload = serde_json::from_str(text)
            .map_err(|e| InvalidWorkload(format!("{text:?} is not a workload object: {e}")))?;
        if json.external_workload.is_some() {
            return Err(InvalidWorkload(
                "field \"external_workload\": external workloads are not supported".to_string(),
            ));
        }
        let namespace = json
            .ns
            .ok_or_else(|| InvalidWorkload("field \"ns\" is missing".to_string()))?;
        let pod = json
            .pod
            .ok_or_else(|| InvalidWorkload("field \"pod\" is missing".to_string()))?;
        Self::checked(&namespace, &pod)
    }

    /// Refuses empty parts, which would otherwise surface as a confusing
    /// NotFound for a pod with no name.
    fn checked(namespace: &str, pod: &str) -> Result<Workload, InvalidWorkload> {
        if namespace.is_empty() {
            return Err(InvalidWorkload("field \"ns\" is empty".to_string()));
        }
        if pod.is_empty() {
            return Err(InvalidWorkload("field \"pod\" is empty".to_string()));
        }
        if pod.contains(':') {
            return Err(InvalidWorkload(format!(
                "field \"pod\" ({pod:?}) contains ':'"
            )));
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

    fn ok(namespace: &str, pod: &str) -> Result<Workload, InvalidWorkload> {
        Ok(Workload {
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
            Workload::parse(r#"{"ns":"mc-demo","pod":"bb-1"}"#),
            ok("mc-demo", "bb-1")
        );
        assert_eq!(Workload::parse("mc-demo:bb-1"), ok("mc-demo", "bb-1"));
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
