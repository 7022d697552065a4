//! What a drill tried and what it cost, as rows of the table the suite
//! prints: the record a reader compares against RELIABILITY.md.

use std::fmt::Write as _;

use crate::accounting::{Denied, Window};

/// One thing tried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The drill it belongs to (`soak`, `outage`, `plugins`, `resources`,
    /// `security`, `fuzz`).
    pub drill: &'static str,
    /// What was done to the mesh.
    pub tried: String,
    /// What the mesh did about it: the error, status or behaviour seen.
    pub happened: String,
    /// What each client counted over the row's window (sent, 2xx, 403,
    /// other, not sent); `-` for a row without one.
    pub requests: String,
    /// What was lost: failed allowed requests, admitted denied ones,
    /// objects or plugins gone; `nothing` when nothing was.
    pub lost: String,
    /// Whether this is what a user of the mesh must be able to rely on.
    pub outcome: Outcome,
}

/// Whether a row passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The mesh behaved as required.
    Pass,
    /// It did not: the suite exits non-zero.
    Fail,
    /// It could not be tried here (a tool missing), with the reason in
    /// `happened`.
    Skipped,
}

impl Outcome {
    /// `Pass` when `ok`, else `Fail`.
    pub fn of(ok: bool) -> Outcome {
        if ok { Outcome::Pass } else { Outcome::Fail }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "FAIL",
            Outcome::Skipped => "skipped",
        }
    }
}

impl Row {
    /// A row; `ok` decides its outcome.
    pub fn new(
        drill: &'static str,
        tried: impl Into<String>,
        happened: impl Into<String>,
        lost: impl Into<String>,
        ok: bool,
    ) -> Row {
        Row {
            drill,
            tried: tried.into(),
            happened: happened.into(),
            requests: "-".into(),
            lost: lost.into(),
            outcome: Outcome::of(ok),
        }
    }

    /// A row judged on `window` as well: it fails unless
    /// [`Window::ok_with`] `rule`, and its lost column adds what the
    /// window lost to `lost` (`nothing` dropped when the window lost
    /// something).
    pub fn judged(
        drill: &'static str,
        tried: impl Into<String>,
        happened: impl Into<String>,
        lost: impl Into<String>,
        ok: bool,
        window: &Window,
        rule: Denied,
    ) -> Row {
        let lost = lost.into();
        let window_lost = window.lost_with(rule);
        let lost = match (lost.as_str(), window_lost.as_str()) {
            (_, "nothing") => lost,
            ("nothing" | "" | "-", _) => window_lost,
            _ => format!("{lost}; {window_lost}"),
        };
        let mut row = Row::new(drill, tried, happened, lost, ok && window.ok_with(rule));
        row.requests = window.counts();
        row
    }

    /// A row for something that could not be tried, saying why.
    pub fn skipped(drill: &'static str, tried: impl Into<String>, why: impl Into<String>) -> Row {
        Row {
            drill,
            tried: tried.into(),
            happened: why.into(),
            requests: "-".into(),
            lost: "-".into(),
            outcome: Outcome::Skipped,
        }
    }
}

/// Every row so far, printed as a Markdown table so it can be pasted into
/// RELIABILITY.md as is.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
}

impl Report {
    /// Adds a row and prints it at once, so a long run shows progress.
    pub fn push(&mut self, row: Row) {
        eprintln!(
            "[{}] {} {}: {} (requests: {}) (lost: {})",
            row.outcome.label(),
            row.drill,
            row.tried,
            row.happened,
            row.requests,
            row.lost
        );
        self.rows.push(row);
    }

    /// Adds every row of a drill.
    pub fn extend(&mut self, rows: impl IntoIterator<Item = Row>) {
        for row in rows {
            self.push(row);
        }
    }

    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The rows that could not be tried.
    pub fn skipped(&self) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| r.outcome == Outcome::Skipped)
            .collect()
    }

    /// Whether the run proved what it was asked to: no row failed, and no
    /// row was skipped unless `allow_skipped`.
    pub fn passed(&self, allow_skipped: bool) -> bool {
        self.failures() == 0 && (allow_skipped || self.skipped().is_empty())
    }

    /// How many rows failed.
    pub fn failures(&self) -> usize {
        self.rows
            .iter()
            .filter(|r| r.outcome == Outcome::Fail)
            .count()
    }

    /// The table: drill, what was tried, what happened, what was lost, and
    /// the outcome, one line per row (cells keep no `|` or line break).
    pub fn table(&self) -> String {
        let mut out = String::from(
            "| drill | tried | what happened | requests | lost | result |\n|---|---|---|---|---|---|\n",
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                row.drill,
                cell(&row.tried),
                cell(&row.happened),
                cell(&row.requests),
                cell(&row.lost),
                row.outcome.label()
            );
        }
        let passed = self
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::Pass)
            .count();
        let skipped = self
            .rows
            .iter()
            .filter(|r| r.outcome == Outcome::Skipped)
            .count();
        let _ = writeln!(
            out,
            "\n{passed} passed, {} failed, {skipped} skipped",
            self.failures()
        );
        out
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests;
