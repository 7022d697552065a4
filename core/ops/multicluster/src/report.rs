//! The report of a `check` command, printed as `linkerd check` prints it:
//! a heading per section, `√` passed, `‼` worth knowing, `×` failed (with
//! the reason indented below), and the verdict last. Each line goes out as
//! soon as it is known, since a check may take seconds and a user is
//! watching.

/// What the checks found: every line of the report, and whether anything
/// failed (the command then exits 1).
#[derive(Debug, Default)]
pub struct Report {
    /// Every check's line (and reason), in order, without the headings.
    pub lines: Vec<String>,
    /// Whether a check failed.
    pub failed: bool,
}

/// The report being written to `out`.
pub struct Reporter<'a> {
    report: Report,
    out: &'a mut dyn FnMut(&str),
    headings: usize,
}

impl<'a> Reporter<'a> {
    /// A report written to `out`.
    pub fn new(out: &'a mut dyn FnMut(&str)) -> Self {
        Reporter {
            report: Report::default(),
            out,
            headings: 0,
        }
    }

    fn say(&mut self, text: String) {
        (self.out)(&text);
        self.report.lines.push(text);
    }

    /// Starts a section, underlined as Linkerd underlines it, after a blank
    /// line unless it is the first.
    pub fn heading(&mut self, title: &str) {
        let gap = if self.headings > 0 { "\n" } else { "" };
        self.headings += 1;
        (self.out)(&format!(
            "{gap}{title}\n{}",
            "-".repeat(title.chars().count())
        ));
    }

    /// A check that passed.
    pub fn pass(&mut self, what: &str) {
        self.say(format!("√ {what}"));
    }

    /// A check that passed with something worth knowing.
    pub fn warn(&mut self, what: &str, why: &str) {
        self.say(format!("‼ {what}\n    {why}"));
    }

    /// A check that failed, and why.
    pub fn fail(&mut self, what: &str, why: &str) {
        self.report.failed = true;
        self.say(format!("× {what}\n    {}", why.replace('\n', "\n    ")));
    }

    /// Whether a check failed so far.
    pub fn failed(&self) -> bool {
        self.report.failed
    }

    /// Prints the verdict and gives the report.
    pub fn finish(self) -> Report {
        let Reporter { report, out, .. } = self;
        out(&format!(
            "\nStatus check results are {}",
            if report.failed { "×" } else { "√" }
        ));
        report
    }
}
