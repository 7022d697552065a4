use super::*;

/// The end of a clean 30 s run of `label_selector`, as libFuzzer prints it
/// with `-print_final_stats=1`.
const CLEAN: &str = "\
INFO: Running with entropic power schedule (0xFF, 100).
INFO: Seed: 3265442386
#2\tINITED cov: 412 ft: 413 corp: 1/1b exec/s: 0 rss: 31Mb
#262144\tpulse  cov: 1933 ft: 7310 corp: 402/40Kb lim: 4096 exec/s: 13107 rss: 404Mb
#457762\tDONE   cov: 1933 ft: 7329 corp: 410/41Kb lim: 4096 exec/s: 14766 rss: 404Mb
Done 457762 runs in 31 second(s)
stat::number_of_executed_units: 457762
stat::average_exec_per_sec:     14766
stat::new_units_added:          8
stat::slowest_unit_time_sec:    0
stat::peak_rss_mb:              404
";

/// A failed oracle assertion: Rust's panic message on the line after
/// `panicked at`, then libFuzzer's report, the input's file and cargo-fuzz's
/// summary naming it again, relative.
const PANIC: &str = "\
#1024\tpulse  cov: 900 ft: 1200 corp: 40/2Kb lim: 4096 exec/s: 512 rss: 60Mb
#1810\tNEW    cov: 905 ft: 1210 corp: 41/2Kb lim: 4096 exec/s: 603 rss: 60Mb

thread '<unnamed>' panicked at fuzz_targets/label_selector.rs:88:5:
selectors disagree on {\"a\": \"b\"}
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
==41952== ERROR: libFuzzer: deadly signal
    #0 0x55f0c1 in __sanitizer_print_stack_trace
    #1 0x55f0c2 in fuzzer::PrintStackTrace()
SUMMARY: libFuzzer: deadly signal
MS: 1 ChangeBit-; base unit: 0a4d55a8d778e5022fab701977c5d840bbc486d0
artifact_prefix='/src/strait/core/tools/fuzz/artifacts/label_selector/'; Test unit written to /src/strait/core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b
Base64: AQI=
stat::number_of_executed_units: 1811
stat::average_exec_per_sec:     603
────────────────────────────────────────────────────────────────────────────────

Failing input:

\tcore/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b
";

#[test]
fn a_clean_run_reports_its_runs_and_rate_and_passes() {
    let parsed = parse_run(CLEAN);
    assert_eq!(parsed.runs, Some(457_762));
    assert_eq!(parsed.execs_per_sec, Some(14_766));
    assert!(parsed.crash_files.is_empty());
    assert_eq!(parsed.error, None);
    let verdict = Verdict::of(&parsed, true, &[]);
    assert_eq!(verdict, Verdict::Clean);
    let (happened, lost, ok) = describe(&parsed, &verdict, 31, CLEAN);
    assert_eq!(happened, "457762 runs in 31 s, 14766 a second, 0 crashes");
    assert_eq!(lost, "nothing");
    assert!(ok);
}

#[test]
fn a_panic_fails_the_row_naming_the_message_and_the_crash_file_once() {
    let parsed = parse_run(PANIC);
    assert_eq!(parsed.runs, Some(1811));
    assert_eq!(
        parsed.crash_files,
        ["/src/strait/core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b"]
    );
    assert_eq!(
        parsed.error.as_deref(),
        Some(
            "panicked at fuzz_targets/label_selector.rs:88:5: selectors disagree on {\"a\": \"b\"}"
        )
    );
    // The file found new in the artifacts directory is the one libFuzzer
    // printed: named once, relative.
    let new = ["core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b".to_string()];
    let verdict = Verdict::of(&parsed, false, &new);
    assert_eq!(verdict, Verdict::Crashed(new.to_vec()));
    let (happened, lost, ok) = describe(&parsed, &verdict, 4, PANIC);
    assert!(!ok);
    assert!(
        happened.starts_with(
            "crashed after 1811 runs: panicked at fuzz_targets/label_selector.rs:88:5"
        ),
        "{happened}"
    );
    assert!(
        happened
            .ends_with("input written to core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b"),
        "{happened}"
    );
    assert_eq!(
        lost,
        "a crashing input: core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b"
    );
}

#[test]
fn a_crash_the_artifacts_directory_already_held_is_still_a_crash() {
    // The same input found again overwrites its file, so no file is new;
    // libFuzzer's own line names it.
    let parsed = parse_run(PANIC);
    let verdict = Verdict::of(&parsed, false, &[]);
    assert_eq!(
        verdict,
        Verdict::Crashed(vec![
            "/src/strait/core/tools/fuzz/artifacts/label_selector/crash-7d9c2e1b".into()
        ])
    );
}

#[test]
fn a_timeout_without_final_stats_counts_runs_from_the_last_progress_line() {
    let output = "\
#65536\tpulse  cov: 2000 ft: 3000 corp: 100/9Kb lim: 4096 exec/s: 700 rss: 90Mb
#70001\tREDUCE cov: 2001 ft: 3001 corp: 100/9Kb lim: 4096 exec/s: 700 rss: 90Mb
ALARM: working on the last Unit for 11 seconds
==7== ERROR: libFuzzer: timeout after 10 seconds
artifact_prefix='artifacts/resource_decoding/'; Test unit written to artifacts/resource_decoding/timeout-1f2e3d
";
    let parsed = parse_run(output);
    assert_eq!(parsed.runs, Some(70_001));
    assert_eq!(
        parsed.error.as_deref(),
        Some("ERROR: libFuzzer: timeout after 10 seconds")
    );
    assert_eq!(
        parsed.crash_files,
        ["artifacts/resource_decoding/timeout-1f2e3d"]
    );
    let verdict = Verdict::of(&parsed, false, &[]);
    let (happened, _, ok) = describe(&parsed, &verdict, 12, output);
    assert!(!ok);
    assert!(happened.contains("timeout after 10 seconds"), "{happened}");
    assert!(happened.contains("timeout-1f2e3d"), "{happened}");
}

#[test]
fn a_panic_quoted_on_its_own_line_is_read_too() {
    let output = "thread '<unnamed>' panicked at 'attempt to add with overflow', src/duration.rs:40:9\n\
                  ==9== ERROR: libFuzzer: deadly signal\n";
    let parsed = parse_run(output);
    assert_eq!(
        parsed.error.as_deref(),
        Some("panicked at 'attempt to add with overflow', src/duration.rs:40:9")
    );
    assert_eq!(parsed.runs, None);
}

#[test]
fn a_run_that_failed_without_an_input_is_a_failure_not_a_pass() {
    let output = "   Compiling strait-fuzz v0.0.0\n\
                  error[E0425]: cannot find value `x` in this scope\n\
                  error: could not compile `strait-fuzz` (bin \"label_selector\") due to 1 previous error\n";
    let parsed = parse_run(output);
    let verdict = Verdict::of(&parsed, false, &[]);
    assert_eq!(verdict, Verdict::Broken);
    let (happened, lost, ok) = describe(&parsed, &verdict, 3, output);
    assert!(!ok);
    assert_eq!(lost, "the run");
    assert!(
        happened.contains("could not compile `strait-fuzz`"),
        "{happened}"
    );
    assert!(happened.contains("an unknown number of runs"), "{happened}");
}

#[test]
fn a_clean_exit_without_stats_takes_the_done_line() {
    let parsed = parse_run("Done 1200 runs in 10 second(s)\n");
    assert_eq!(parsed.runs, Some(1200));
    assert_eq!(parsed.execs_per_sec, None);
    let verdict = Verdict::of(&parsed, true, &[]);
    let (happened, _, ok) = describe(&parsed, &verdict, 10, "");
    assert!(ok);
    assert_eq!(happened, "1200 runs in 10 s, 0 crashes");
}

#[test]
fn last_lines_skips_blank_lines() {
    assert_eq!(last_lines("a\n\nb\n  \nc\n", 2), "b / c");
    assert_eq!(last_lines("", 3), "");
}

#[test]
fn without_cargo_fuzz_the_drill_is_skipped_saying_how_to_install_it() {
    let row = not_installed("exit status: 101: error: no such command: `fuzz`");
    assert_eq!(row.outcome, crate::Outcome::Skipped);
    assert_eq!(row.drill, "fuzz");
    assert!(
        row.happened.contains("no such command: `fuzz`"),
        "{}",
        row.happened
    );
    assert!(
        row.happened.contains("cargo install cargo-fuzz"),
        "{}",
        row.happened
    );
}
