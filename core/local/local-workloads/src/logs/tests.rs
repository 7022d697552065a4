use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::StreamExt;
use k8s_openapi::api::core::v1::PodSpec;
use serde_json::json;

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn small(lines: usize, bytes: usize) -> ContainerLog {
    ContainerLog::with_caps(Caps {
        lines,
        bytes,
        line_bytes: 8,
    })
}

#[test]
fn the_oldest_lines_go_first_past_the_line_cap() {
    let log = small(3, 1000);
    for n in 0..5 {
        log.write(&format!("line {n}"));
    }
    assert_eq!(texts(&log.lines()), ["line 2", "line 3", "line 4"]);
}

#[test]
fn the_oldest_lines_go_first_past_the_byte_cap() {
    let log = small(100, 10);
    log.write("aaaa");
    log.write("bbbb");
    log.write("cccc");
    // 12 bytes do not fit in 10: the first line goes.
    assert_eq!(texts(&log.lines()), ["bbbb", "cccc"]);
}

#[test]
fn a_long_line_is_cut_at_a_character_boundary() {
    let log = small(100, 1000);
    log.write("ééééé");
    // Eight bytes hold four two-byte characters.
    assert_eq!(texts(&log.lines()), ["éééé"]);
}

#[test]
fn newlines_make_separate_lines() {
    let log = ContainerLog::default();
    log.write("one\ntwo\n");
    assert_eq!(texts(&log.lines()), ["one", "two"]);
}

#[test]
fn the_default_caps_bound_a_flood() {
    let log = ContainerLog::default();
    let line = "x".repeat(MAX_LINE_BYTES * 2);
    for _ in 0..(MAX_LINES * 2) {
        log.write(&line);
    }
    let lines = log.lines();
    let bytes: usize = lines.iter().map(|l| l.text.len()).sum();
    assert!(lines.len() <= MAX_LINES && bytes <= MAX_BYTES, "{bytes}");
    assert!(lines.iter().all(|l| l.text.len() == MAX_LINE_BYTES));
}

#[test]
fn timestamps_are_rfc3339_with_nanoseconds() {
    let time = UNIX_EPOCH + Duration::new(1_796_460_732, 5);
    assert_eq!(rfc3339_nanos(time), "2026-12-05T08:52:12.000000005Z");
    assert_eq!(rfc3339_seconds(time), "2026-12-05T08:52:12Z");
}

fn sample() -> Vec<LogLine> {
    (0..5)
        .map(|n| LogLine {
            time: at(100 + n),
            text: format!("line {n}"),
        })
        .collect()
}

#[test]
fn tail_lines_keeps_the_last_ones() {
    let options = LogOptions {
        tail_lines: Some(2),
        ..LogOptions::default()
    };
    assert_eq!(options.apply(&sample(), at(200)), b"line 3\nline 4\n");
    let none = LogOptions {
        tail_lines: Some(0),
        ..LogOptions::default()
    };
    assert_eq!(none.apply(&sample(), at(200)), b"");
}

#[test]
fn since_seconds_keeps_the_recent_ones() {
    let options = LogOptions {
        since_seconds: Some(2),
        ..LogOptions::default()
    };
    // Now is 105: lines written at 103 and later.
    assert_eq!(options.apply(&sample(), at(105)), b"line 3\nline 4\n");
}

#[test]
fn timestamps_prefix_each_line() {
    let options = LogOptions {
        tail_lines: Some(1),
        timestamps: true,
        ..LogOptions::default()
    };
    assert_eq!(
        String::from_utf8(options.apply(&sample(), at(200))).unwrap(),
        "1970-01-01T00:01:44.000000000Z line 4\n"
    );
}

#[test]
fn limit_bytes_cuts_the_body() {
    let options = LogOptions {
        limit_bytes: Some(10),
        ..LogOptions::default()
    };
    assert_eq!(options.apply(&sample(), at(200)), b"line 0\nlin");
}

fn spec(value: serde_json::Value) -> PodSpec {
    serde_json::from_value(value).unwrap()
}

#[test]
fn one_container_is_read_without_naming_it() {
    let logs = PodLogs::of_spec(&spec(json!({
        "initContainers": [{"name": "linkerd-init"}],
        "containers": [{"name": "bb"}]
    })));
    let log = logs.resolve("p", None).unwrap();
    assert_eq!(log.container(), "bb");
}

#[test]
fn several_containers_need_a_name() {
    let logs = PodLogs::of_spec(&spec(json!({
        "initContainers": [{"name": "linkerd-init"}],
        "containers": [{"name": "slow-cooker"}, {"name": "linkerd-proxy"}]
    })));
    let err = logs.resolve("p", None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "a container name must be specified for pod p, choose one of: [linkerd-init slow-cooker linkerd-proxy]"
    );
    let err = logs.resolve("p", Some("x")).unwrap_err();
    assert_eq!(err.to_string(), "container x is not valid for pod p");
    assert!(matches!(err, LogError::NoContainer { containers, .. } if containers.len() == 3));
    assert_eq!(
        logs.resolve("p", Some("linkerd-proxy"))
            .unwrap()
            .container(),
        "linkerd-proxy"
    );
}

#[tokio::test]
async fn a_follower_sees_new_lines_and_ends_when_the_pod_stops() {
    let logs = PodLogs::of_spec(&spec(json!({"containers": [{"name": "bb"}]})));
    let writer = logs.container("bb").unwrap().clone();
    writer.write("before");
    let log = logs.resolve("p", None).unwrap();
    let mut body = Box::pin(log.follow(&LogOptions::default()));
    assert_eq!(&body.next().await.unwrap()[..], b"before\n");
    let later = writer.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        later.write("after");
    });
    let next = tokio::time::timeout(Duration::from_secs(5), body.next()).await;
    assert_eq!(&next.unwrap().unwrap()[..], b"after\n");
    logs.close();
    let end = tokio::time::timeout(Duration::from_secs(5), body.next()).await;
    assert_eq!(end.unwrap(), None);
    // A stopped container prints no more.
    writer.write("ignored");
    assert_eq!(texts(&log.lines()), ["before", "after"]);
}

#[tokio::test]
async fn following_honours_tail_and_limit_bytes() {
    let logs = PodLogs::of_spec(&spec(json!({"containers": [{"name": "c"}]})));
    let log = logs.container("c").unwrap().clone();
    for n in 0..3 {
        log.write(&format!("line {n}"));
    }
    let logs = logs.resolve("p", None).unwrap();
    let options = LogOptions {
        tail_lines: Some(1),
        limit_bytes: Some(10),
        ..LogOptions::default()
    };
    let mut body = Box::pin(logs.follow(&options));
    assert_eq!(&body.next().await.unwrap()[..], b"line 2\n");
    log.write("line 3");
    assert_eq!(&body.next().await.unwrap()[..], b"lin");
    // The limit is reached: the stream ends though the Pod runs on.
    assert_eq!(body.next().await, None);
}

#[tokio::test]
async fn a_lagging_follower_skips_what_was_dropped() {
    let log = small(2, 1000);
    let mut follow = log.follow();
    for n in 0..5 {
        log.write(&format!("l{n}"));
    }
    assert_eq!(follow.next_line().await.unwrap().text, "l3");
    assert_eq!(follow.next_line().await.unwrap().text, "l4");
}
