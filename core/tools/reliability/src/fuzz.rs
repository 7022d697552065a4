//! The fuzz drill: the three libFuzzer targets of `core/tools/fuzz` (label
//! selectors, resource decoding, the authorization rule) each run for a set
//! time, one row per target with the inputs it ran and whether it crashed.
//! It needs cargo-fuzz; without it the drill says how to install it rather
//! than failing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

use crate::Row;

/// The drill's name in the report.
const DRILL: &str = "fuzz";

/// The repository, relative to this crate: the fuzz targets are run from
/// there, as `core/tools/fuzz/README.md` does.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

/// Runs every target of `core/tools/fuzz` for `seconds` each, from the committed
/// seeds plus the local corpus, built optimized with debug assertions (the
/// README's flags, so an overflow is a crash). One row per target; a single
/// skipped row when cargo-fuzz is not installed.
pub fn fuzz(seconds: u64) -> Vec<Row> {
    let root = repository();
    if let Err(why) = cargo_fuzz(&root, &["--version"]) {
        return vec![not_installed(&why)];
    }
    let targets = match cargo_fuzz(&root, &["list", "--fuzz-dir", "core/tools/fuzz"]) {
        Ok(out) => out
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>(),
        Err(why) => {
            return vec![Row::new(
                DRILL,
                "listing the fuzz targets (`cargo fuzz list --fuzz-dir core/tools/fuzz`)",
                why,
                "the drill",
                false,
            )];
        }
    };
    if targets.is_empty() {
        return vec![Row::new(
            DRILL,
            "listing the fuzz targets (`cargo fuzz list --fuzz-dir core/tools/fuzz`)",
            "no targets listed",
            "the drill",
            false,
        )];
    }
    if let Err(why) = cargo_fuzz(
        &root,
        &[
            "build",
            "--debug-assertions",
            "--fuzz-dir",
            "core/tools/fuzz",
        ],
    ) {
        return vec![Row::new(
            DRILL,
            "building the fuzz targets (`cargo fuzz build -a --fuzz-dir core/tools/fuzz`)",
            why,
            "the drill",
            false,
        )];
    }
    targets
        .iter()
        .map(|target| run_target(&root, target, seconds))
        .collect()
}

/// The row when `cargo fuzz --version` fails: skipped, saying how to
/// install cargo-fuzz.
pub(crate) fn not_installed(why: &str) -> Row {
    Row::skipped(
        DRILL,
        "the fuzz targets of core/tools/fuzz",
        format!(
            "cargo-fuzz is not installed (`cargo fuzz --version`: {why}); install it with \
             `cargo install cargo-fuzz`, then run the drill again"
        ),
    )
}

/// Runs one target and turns what libFuzzer printed into its row.
fn run_target(root: &Path, target: &str, seconds: u64) -> Row {
    let tried = format!(
        "`{target}` fuzzed for {seconds} s (`cargo fuzz run -a`, from the committed seeds and \
         the local corpus)"
    );
    let fuzz_dir = root.join("core/tools/fuzz");
    let corpus = fuzz_dir.join("corpus").join(target);
    let seeds = fuzz_dir.join("seeds").join(target);
    let artifacts = fuzz_dir.join("artifacts").join(target);
    for dir in [&corpus, &seeds, &artifacts] {
        if let Err(error) = std::fs::create_dir_all(dir) {
            return Row::new(
                DRILL,
                tried,
                format!("cannot create {}: {error}", dir.display()),
                "the run",
                false,
            );
        }
    }
    let before = files_in(&artifacts);
    let started = Instant::now();
    let mut prefix = artifacts.clone().into_os_string();
    prefix.push("/");
    let output = Command::new("cargo")
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .args([
            "fuzz",
            "run",
            "--debug-assertions",
            "--fuzz-dir",
            "core/tools/fuzz",
            target,
        ])
        .arg(&corpus)
        .arg(&seeds)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .arg({
            let mut flag = std::ffi::OsString::from("-artifact_prefix=");
            flag.push(&prefix);
            flag
        })
        .output();
    let took = started.elapsed().as_secs();
    let output = match output {
        Ok(output) => output,
        Err(error) => {
            return Row::new(
                DRILL,
                tried,
                format!("cannot run cargo: {error}"),
                "the run",
                false,
            );
        }
    };
    let text = combined(&output);
    let parsed = parse_run(&text);
    let new_files: Vec<String> = files_in(&artifacts)
        .difference(&before)
        .map(|f| relative(root, &artifacts.join(f)))
        .collect();
    let verdict = Verdict::of(&parsed, output.status.success(), &new_files);
    let (happened, lost, ok) = describe(&parsed, &verdict, took, &text);
    Row::new(DRILL, tried, happened, lost, ok)
}

/// What one run printed that the row reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FuzzOutput {
    /// Inputs executed: libFuzzer's final `stat::number_of_executed_units`,
    /// else its `Done N runs`, else its last progress line `#N`.
    pub(crate) runs: Option<u64>,
    /// `stat::average_exec_per_sec`.
    pub(crate) execs_per_sec: Option<u64>,
    /// The files libFuzzer wrote failing inputs to (`Test unit written to`).
    pub(crate) crash_files: Vec<String>,
    /// The first line saying why it failed: libFuzzer's `ERROR:` line or a
    /// Rust panic's message.
    pub(crate) error: Option<String>,
}

/// Reads libFuzzer's (and cargo-fuzz's) output.
pub(crate) fn parse_run(output: &str) -> FuzzOutput {
    let mut parsed = FuzzOutput::default();
    let mut done = None;
    let mut progress = None;
    let mut panic_message: Option<String> = None;
    let mut lines = output.lines().peekable();
    while let Some(line) = lines.next() {
        let line = line.trim_end();
        if let Some(value) = line.strip_prefix("stat::number_of_executed_units:") {
            parsed.runs = value.trim().parse().ok().or(parsed.runs);
        } else if let Some(value) = line.strip_prefix("stat::average_exec_per_sec:") {
            parsed.execs_per_sec = value.trim().parse().ok().or(parsed.execs_per_sec);
        } else if let Some(rest) = line.strip_prefix("Done ") {
            done = rest
                .split_whitespace()
                .next()
                .and_then(|n| n.parse::<u64>().ok())
                .or(done);
        } else if let Some(rest) = line.strip_prefix('#') {
            let number = rest.split(|c: char| !c.is_ascii_digit()).next();
            if let Some(n) = number.and_then(|n| n.parse::<u64>().ok()) {
                progress = Some(n);
            }
        }
        if let Some((_, file)) = line.split_once("Test unit written to ") {
            let file = file.trim().to_string();
            if !file.is_empty() && !parsed.crash_files.contains(&file) {
                parsed.crash_files.push(file);
            }
        }
        if parsed.error.is_none()
            && let Some(at) = line.find("ERROR: ")
        {
            parsed.error = Some(line[at..].trim().to_string());
        }
        if panic_message.is_none() && line.contains("panicked at") {
            // Since Rust 1.73 the message follows on the next line; before,
            // it was quoted on the same one.
            let message = match line.split_once("panicked at ") {
                Some((_, rest)) if rest.trim_end().ends_with(':') => lines
                    .peek()
                    .map(|next| format!("panicked at {} {}", rest.trim(), next.trim()))
                    .unwrap_or_else(|| format!("panicked at {}", rest.trim())),
                Some((_, rest)) => format!("panicked at {}", rest.trim()),
                None => line.trim().to_string(),
            };
            panic_message = Some(message);
        }
    }
    parsed.runs = parsed.runs.or(done).or(progress);
    // A panic says more than libFuzzer's `deadly signal` that follows it.
    if let Some(message) = panic_message {
        parsed.error = Some(message);
    }
    parsed
}

/// Whether a run crashed, and on what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Ran its time without a failing input.
    Clean,
    /// Found a failing input, written to these files.
    Crashed(Vec<String>),
    /// Failed without writing an input (a build or setup error).
    Broken,
}

impl Verdict {
    /// From the parsed output, the exit status and the files that appeared
    /// in the target's artifacts directory during the run (named first, as
    /// they are relative to the repository; an input libFuzzer wrote over
    /// an existing file is named as it printed it).
    pub(crate) fn of(parsed: &FuzzOutput, success: bool, new_files: &[String]) -> Verdict {
        let mut files: Vec<String> = new_files.to_vec();
        for file in &parsed.crash_files {
            if !files
                .iter()
                .any(|f| f.ends_with(file.as_str()) || file.ends_with(f.as_str()))
            {
                files.push(file.clone());
            }
        }
        if !files.is_empty() {
            Verdict::Crashed(files)
        } else if success {
            Verdict::Clean
        } else {
            Verdict::Broken
        }
    }
}

/// The row's `happened`, `lost` and whether it passed.
pub(crate) fn describe(
    parsed: &FuzzOutput,
    verdict: &Verdict,
    took: u64,
    text: &str,
) -> (String, String, bool) {
    let runs = parsed
        .runs
        .map_or_else(|| "an unknown number of".to_string(), |n| n.to_string());
    let rate = parsed
        .execs_per_sec
        .map(|r| format!(", {r} a second"))
        .unwrap_or_default();
    match verdict {
        Verdict::Clean => (
            format!("{runs} runs in {took} s{rate}, 0 crashes"),
            "nothing".to_string(),
            true,
        ),
        Verdict::Crashed(files) => (
            format!(
                "crashed after {runs} runs: {}; input written to {}",
                parsed.error.as_deref().unwrap_or("no message"),
                files.join(", ")
            ),
            format!("a crashing input: {}", files.join(", ")),
            false,
        ),
        Verdict::Broken => (
            format!(
                "the run failed without a crashing input after {runs} runs: {}",
                parsed.error.clone().unwrap_or_else(|| last_lines(text, 3))
            ),
            "the run".to_string(),
            false,
        ),
    }
}

/// `cargo fuzz ARGS` in `root`; its stdout, or why it failed.
fn cargo_fuzz(root: &Path, args: &[&str]) -> Result<String, String> {
    let output = Command::new("cargo")
        .current_dir(root)
        .env("RUSTC_BOOTSTRAP", "1")
        .arg("fuzz")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "{}: {}",
            output.status,
            last_lines(&combined(&output), 5)
        ))
    }
}

fn combined(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push('\n');
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

/// The last `n` non-empty lines, joined on one line.
pub(crate) fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(n)..].join(" / ")
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// `path` relative to the repository, as the README names crash files.
fn relative(root: &Path, path: &Path) -> String {
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&root)
        .unwrap_or(&path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests;
