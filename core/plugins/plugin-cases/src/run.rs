//! Running cases through the plugin host, and the report.

use std::fmt;

use strait_decisions::export::FederatedDecision;
use strait_plugin_host::{
    AuthzPlugin, CallOutcome, ExportPlugin, PluginBytes, PluginError, PluginHost, PluginKind,
};

use crate::{Cases, authz, export};

/// The outcome of one case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// `None` when it passed; else what was expected and what the plugin did.
    pub failure: Option<(String, String)>,
}

/// The outcome of a cases file, one result per case in file order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Per case, in order.
    pub results: Vec<CaseResult>,
}

impl Report {
    /// How many cases passed.
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.failure.is_none()).count()
    }

    /// How many cases failed.
    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// `PASS <name>` or `FAIL <name>: expected <x>, got <y>` per case, then
/// `N passed, M failed`.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for result in &self.results {
            match &result.failure {
                None => writeln!(f, "PASS {}", result.name)?,
                Some((expected, got)) => {
                    writeln!(f, "FAIL {}: expected {expected}, got {got}", result.name)?
                }
            }
        }
        writeln!(f, "{} passed, {} failed", self.passed(), self.failed())
    }
}

/// The kind of a plugin, told from the world its component implements: the
/// authz world if it validates as one, else the export world. When it is
/// neither, the error says what it implements.
pub fn detect_kind(host: &PluginHost, plugin: &PluginBytes) -> Result<PluginKind, PluginError> {
    match host.check(PluginKind::Authz, plugin) {
        Ok(_) => Ok(PluginKind::Authz),
        Err(PluginError::WrongWorld { .. }) => host
            .check(PluginKind::Export, plugin)
            .map(|_| PluginKind::Export),
        Err(other) => Err(other),
    }
}

/// Loads `plugin` as the kind of `cases` (it must validate as the mesh would
/// validate it) and runs every case.
pub fn run(host: &PluginHost, plugin: &PluginBytes, cases: &Cases) -> Result<Report, PluginError> {
    let results = match cases {
        Cases::Authz(cases) => {
            let slot = AuthzPlugin::new(host, "test", plugin)?;
            cases
                .iter()
                .map(|case| {
                    let verdict = slot.authorize(case.request.clone(), &case.candidates);
                    let decision = authz::describe_decision(&verdict.decision);
                    let got = match verdict.outcome {
                        CallOutcome::Ok => Got::Decided {
                            satisfied: authz::satisfies(&case.expect, &verdict.decision),
                            decision,
                        },
                        outcome => Got::FailedCall {
                            outcome,
                            fallback: decision,
                        },
                    };
                    result(&case.name, case.expect.to_string(), got)
                })
                .collect()
        }
        Cases::Export(cases) => {
            let slot = ExportPlugin::new(host, "test", plugin)?;
            cases
                .iter()
                .map(|case| {
                    let verdict = slot.decide(&case.service, &case.link, None);
                    let mut decision = export::describe_decision(&verdict.decision);
                    let mut satisfied = export::satisfies(&case.expect, &verdict.decision);
                    let mut outcome = verdict.outcome;
                    let mut expected = case.expect.to_string();
                    if let Some(federated) = case.federated {
                        let member = slot.federate(&case.service, &case.link, None);
                        let is_member = matches!(member.decision, FederatedDecision::Member(_));
                        satisfied &= is_member == federated;
                        decision.push_str(&format!(
                            ", {}",
                            export::describe_federated(&member.decision)
                        ));
                        expected.push_str(&format!(
                            ", {}",
                            export::describe_federated_expect(federated)
                        ));
                        if outcome == CallOutcome::Ok {
                            outcome = member.outcome;
                        }
                    }
                    let got = match outcome {
                        CallOutcome::Ok => Got::Decided {
                            satisfied,
                            decision,
                        },
                        outcome => Got::FailedCall {
                            outcome,
                            fallback: decision,
                        },
                    };
                    result(&case.name, expected, got)
                })
                .collect()
        }
    };
    Ok(Report { results })
}

/// What the plugin did with one case.
enum Got {
    /// It decided; `satisfied` says whether as the case expects.
    Decided { satisfied: bool, decision: String },
    /// The call trapped, timed out or ran out of memory, and the host fell
    /// back to `fallback`. This fails the case even when the fallback
    /// happens to be the decision expected.
    FailedCall {
        outcome: CallOutcome,
        fallback: String,
    },
}

fn result(name: &str, expected: String, got: Got) -> CaseResult {
    let failure = match got {
        Got::Decided {
            satisfied: true, ..
        } => None,
        Got::Decided { decision, .. } => Some((expected, decision)),
        Got::FailedCall { outcome, fallback } => Some((
            expected,
            format!(
                "a failed call ({}; the host fell back to {fallback})",
                outcome.as_str()
            ),
        )),
    };
    CaseResult {
        name: name.to_string(),
        failure,
    }
}
