use std::net::SocketAddr;

use strait_test_support::net::any_port;
use strait_test_support::poll::eventually;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;
use crate::apps::{Dial, run_slow_cooker};
use crate::images::SlowCooker;
use crate::logs::ContainerLog;

fn cooker(args: &[&str]) -> SlowCooker {
    crate::images::slow_cooker_with(args)
}

/// A server on loopback answering every request of every kept-alive
/// connection with `status`, or (`None`) reading requests and never
/// answering.
async fn server(status: Option<u16>) -> SocketAddr {
    let listener = TcpListener::bind(any_port()).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = vec![0; 4096];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = stream.read(&mut buffer).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buffer[..n]);
                    let Some(status) = status else {
                        continue;
                    };
                    // One answer per request head read.
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        let answer =
                            format!("HTTP/1.1 {status} Whatever\r\ncontent-length: 0\r\n\r\n");
                        if stream.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn load_against(addr: SocketAddr, args: &[&str]) -> (crate::apps::Task, LoadCounts) {
    let url = format!("http://{addr}/");
    let mut all: Vec<&str> = args.to_vec();
    all.push(&url);
    run_slow_cooker(
        cooker(&all),
        Dial::Fixed(addr),
        addr.ip(),
        "test/cooker".into(),
        ContainerLog::default(),
    )
}

#[test]
fn missed_ticks_are_counted_between_the_ticks_run() {
    let start = tokio::time::Instant::now();
    let period = Duration::from_millis(10);
    let mut ticks = Ticks::new(start, period);
    assert_eq!(ticks.missed_before(start + period), 0);
    assert_eq!(ticks.missed_before(start + period * 2), 0);
    // Ticks 3 to 6 skipped: the next one run is tick 7.
    assert_eq!(ticks.missed_before(start + period * 7), 4);
    // A tick a little late is still its own tick.
    assert_eq!(
        ticks.missed_before(start + period * 8 + Duration::from_millis(3)),
        0
    );
}

#[test]
fn each_ending_is_counted_once_under_its_answer() {
    let counts = Counts::default();
    let endings = [
        Ending::Status(StatusCode::OK),
        Ending::Status(StatusCode::NO_CONTENT),
        Ending::Status(StatusCode::FORBIDDEN),
        Ending::Status(StatusCode::BAD_GATEWAY),
        Ending::ConnectionError,
        Ending::Timeout,
    ];
    for ending in endings {
        let sequence = counts.sent();
        counts.ended(sequence, ending, Some("why"));
    }
    counts.not_sent(3);
    let load = LoadCounts(Arc::new(counts));
    assert_eq!(
        load.totals(),
        LoadTotals {
            sent: 6,
            not_sent: 3,
            ok: 2,
            forbidden: 1,
            other_status: 1,
            connection_errors: 1,
            timeouts: 1,
        }
    );
    assert_eq!(load.totals().ended(), 6);
    assert_eq!(load.totals().other(), 3);
    assert_eq!(load.failed(), 4);
}

#[test]
fn a_window_waits_for_the_requests_sent_before_it_ends() {
    let counts = Arc::new(Counts::default());
    let load = LoadCounts(counts.clone());
    let first = counts.sent();
    let second = counts.sent();
    assert!(!load.ended_before(2));
    counts.ended(second, Ending::Status(StatusCode::OK), None);
    // The first still hangs: what was sent before the second is not over.
    assert!(!load.ended_before(1));
    counts.ended(first, Ending::Timeout, Some("timed out"));
    assert!(load.ended_before(2));
    assert_eq!(load.last_failure().as_deref(), Some("timed out"));
    assert_eq!(load.last_error().as_deref(), Some("timed out"));
}

#[test]
fn a_403_is_a_failure_but_not_an_error() {
    let counts = Counts::default();
    let sequence = counts.sent();
    assert!(counts.ended(
        sequence,
        Ending::Status(StatusCode::FORBIDDEN),
        Some("answered 403")
    ));
    let load = LoadCounts(Arc::new(counts));
    assert_eq!(load.last_failure().as_deref(), Some("answered 403"));
    assert_eq!(load.last_error(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_502_is_counted_as_another_status_not_as_a_refusal() {
    let addr = server(Some(502)).await;
    let (_task, load) = load_against(addr, &["-qps", "50"]);
    eventually("answers from the server", async || {
        load.totals().other_status >= 5
    })
    .await;
    let totals = load.totals();
    assert_eq!(totals.ok, 0, "{totals:?}");
    assert_eq!(totals.forbidden, 0, "{totals:?}");
    assert_eq!(totals.connection_errors + totals.timeouts, 0, "{totals:?}");
    assert_eq!(load.rate(), 50);
    assert!(
        load.last_error().is_some_and(|e| e.contains("502")),
        "{:?}",
        load.last_error()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_hangs_stays_in_flight_until_it_times_out() {
    let addr = server(None).await;
    let (_task, load) = load_against(addr, &["-qps", "20", "-timeout", "2s"]);
    // A request is out and no answer can come: it is in flight.
    eventually("a request sent", async || load.totals().sent >= 1).await;
    let mark = load.totals().sent;
    assert!(!load.ended_before(mark), "{:?}", load.totals());
    assert_eq!(load.totals().ended(), 0);
    // Once its timeout passes it ends, counted as a timeout.
    eventually("the hanging requests timed out", async || {
        load.ended_before(mark)
    })
    .await;
    let totals = load.totals();
    assert!(totals.timeouts >= mark, "{totals:?}");
    assert_eq!(totals.ok + totals.forbidden + totals.other_status, 0);
    assert_eq!(load.timeout(), Duration::from_secs(2));
}

#[tokio::test(flavor = "current_thread")]
async fn ticks_missed_while_the_generator_cannot_run_are_counted_not_sent() {
    let addr = server(Some(200)).await;
    let (_task, load) = load_against(addr, &["-qps", "100"]);
    eventually("the generator sending", async || load.totals().ok >= 3).await;
    let before = load.totals();
    // The generator shares this one thread: blocking it for 300 ms makes
    // about 30 of its ticks pass unrun.
    std::thread::sleep(Duration::from_millis(300));
    eventually("the generator sending again", async || {
        load.totals().sent > before.sent + 5
    })
    .await;
    let during = load.totals().since(&before);
    assert!(during.not_sent >= 20, "{during:?}");
}
