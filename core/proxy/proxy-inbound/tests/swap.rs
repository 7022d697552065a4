//! A plugin version swapped while requests flow: every request is still
//! answered, and answered rightly.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use http::StatusCode;
use support::*;

const SWAPS: usize = 10;
const CLIENTS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapping_the_plugin_under_load_fails_no_request() {
    let mesh = mesh().await;
    guide_policy(&mesh.store);
    wait_for_server(&mesh, HTTP_PORT, "bb").await;
    let app = http_app().await;
    let proxy = proxy(&mesh, "bb-1", app.addr, PATIENCE);
    let good = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;
    let evil = proxy.listen(mtls(EVIL), HTTP_PORT).await;

    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        // One admitted client and one refused one: neither may see the
        // other's answer while versions change.
        let (addr, expected) = if i % 2 == 0 {
            (good, StatusCode::OK)
        } else {
            (evil, StatusCode::FORBIDDEN)
        };
        let (stop, answered) = (stop.clone(), answered.clone());
        clients.push(tokio::spawn(async move {
            let mut client = h1(addr).await;
            let mut sent = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let (status, body) = send1(&mut client, get("/load")).await;
                assert_eq!(status, expected, "request {sent}: {body}");
                sent += 1;
                answered.fetch_add(1, Ordering::Relaxed);
            }
            sent
        }));
    }

    for swap in 1..=SWAPS {
        let plugin = proxy.plugin.clone();
        let version = format!("v{swap}");
        let loaded =
            tokio::task::spawn_blocking(move || plugin.load(&plugin_bytes(Some(&version))))
                .await
                .expect("load task")
                .expect("the re-versioned plugin loads");
        assert_eq!(loaded.label, format!("v{swap}"));
        // Let requests run on each version. A client that stopped saw a
        // wrong answer: it is joined below, with its panic.
        let seen = answered.load(Ordering::Relaxed);
        let stopped = || clients.iter().any(|c| c.is_finished());
        strait_test_support::eventually_within(
            PATIENCE,
            format!("4 requests answered on v{swap}"),
            async || answered.load(Ordering::Relaxed) >= seen + 4 || stopped(),
        )
        .await;
        if stopped() {
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for client in clients {
        let sent = client
            .await
            .expect("no client saw a failed or wrong answer");
        assert!(sent > SWAPS, "only {sent} requests");
        total += sent;
    }
    assert_eq!(proxy.plugin.active().label, format!("v{SWAPS}"));
    assert!(total > 0);
}
