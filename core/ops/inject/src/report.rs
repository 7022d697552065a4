//! What happened to each object, and the summary `linkerd inject` prints on
//! stderr, so scripts and people reading it see the same lines.

use std::fmt::Write;

use strait_api::labels::INJECT;
use strait_mesh::names::PROXY_CONTAINER;

/// Why an object with a pod template was left as it was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// It (or its pod template) is annotated `linkerd.io/inject: disabled`.
    InjectDisabled,
    /// Its pods already have a `linkerd-proxy` container.
    AlreadyInjected,
    /// Its pods share the node's network, where iptables rules would
    /// redirect the whole node's traffic.
    HostNetwork,
}

/// What injection did to one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The proxy was added to its pods.
    Injected,
    /// A Namespace got `linkerd.io/inject: enabled`.
    Annotated,
    /// Nothing changed: a kind without pods (no reason), or a workload
    /// left alone for the reason given.
    Skipped(Option<SkipReason>),
}

/// One object's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The kind in lower case (`deployment`), as Linkerd prints it; empty
    /// for a document without one.
    pub kind: String,
    /// `metadata.name`, empty when absent.
    pub name: String,
    /// What happened.
    pub outcome: Outcome,
}

impl Report {
    /// `kind/name`, as the warnings name objects.
    pub fn resource(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    fn skipped_for(&self, reason: SkipReason) -> bool {
        self.outcome == Outcome::Skipped(Some(reason))
    }
}

const WARN: &str = "\u{203c}";

/// The text `linkerd inject` writes to stderr for these reports: a blank
/// line, warnings, then one line per object (`deployment "bb" injected`,
/// `namespace "mc-demo" annotated`, `service "bb" skipped`) and a blank
/// line that separates it from whatever a pipe prints next.
pub fn render(reports: &[Report]) -> String {
    let mut out = String::from("\n");
    let names = |reason: SkipReason| {
        reports
            .iter()
            .filter(|r| r.skipped_for(reason))
            .map(Report::resource)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut warned = false;
    let mut warn = |line: String| {
        let _ = writeln!(out, "{WARN} {line}");
        warned = true;
    };
    let host_network = names(SkipReason::HostNetwork);
    if !host_network.is_empty() {
        warn(format!("\"hostNetwork: true\" detected in {host_network}"));
    }
    let already = names(SkipReason::AlreadyInjected);
    if !already.is_empty() {
        warn(format!(
            "\"{PROXY_CONTAINER}\" container already present in {already}"
        ));
    }
    let disabled = names(SkipReason::InjectDisabled);
    if !disabled.is_empty() {
        warn(format!(
            "\"{INJECT}: disabled\" annotation set on {disabled}"
        ));
    }
    let changed = reports
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Injected | Outcome::Annotated));
    if !changed {
        warn("no supported objects found".into());
    }
    if warned {
        out.push('\n');
    }
    for report in reports {
        let _ = match report.outcome {
            Outcome::Injected => writeln!(out, "{} \"{}\" injected", report.kind, report.name),
            Outcome::Annotated => writeln!(out, "{} \"{}\" annotated", report.kind, report.name),
            Outcome::Skipped(_) if report.kind.is_empty() => {
                writeln!(out, "document missing \"kind\" field, skipped")
            }
            Outcome::Skipped(_) => writeln!(out, "{} \"{}\" skipped", report.kind, report.name),
        };
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests;
