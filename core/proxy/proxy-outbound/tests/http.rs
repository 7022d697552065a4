//! HTTP through the outbound side: discovery from a real destination
//! server, balancing over real backends on loopback.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_by_host_reaches_a_backend_verifying_its_identity() {
    let cp = control_plane().await;
    let (b1, b2) = (Backend::start("bb-1").await, Backend::start("bb-2").await);
    bb(&cp, &[&b1, &b2]).await;
    let proxy = proxy(&cp, None).await;

    let (status, backend, body) = get_once(proxy.addr, BB).await;
    assert_eq!(status, 200, "{body}");
    assert!(backend == "bb-1" || backend == "bb-2", "{backend}");
    assert_eq!(body, backend);

    // Every backend connected to was asked to prove bb's identity.
    for _ in 0..20 {
        get_once(proxy.addr, BB).await;
    }
    let seen = proxy.connect.seen.lock().clone();
    assert_eq!(
        seen,
        BTreeMap::from([
            (b1.addr, Some(BB_IDENTITY.to_string())),
            (b2.addr, Some(BB_IDENTITY.to_string())),
        ])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_spreads_over_both_backends_and_connections_are_reused() {
    let cp = control_plane().await;
    // Equal backends that each take 5 ms: the requests in flight, not one
    // round trip the scheduler of a busy machine happened to stall, decide
    // where the next one goes. Peak-EWMA rightly avoids for seconds an
    // endpoint that answered slowly once, so with instant backends a single
    // stall would send nearly everything to the other one.
    let delay = Duration::from_millis(5);
    let b1 = Backend::start_with_delay("bb-1", delay).await;
    let b2 = Backend::start_with_delay("bb-2", delay).await;
    bb(&cp, &[&b1, &b2]).await;
    let proxy = proxy(&cp, None).await;

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let addr = proxy.addr;
            tokio::spawn(async move {
                let mut sender = http1(addr).await;
                for _ in 0..50 {
                    let response = send1(&mut sender, get(BB)).await.expect("response");
                    assert_eq!(read(response).await.0, 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let (h1, h2) = (b1.hits(), b2.hits());
    assert_eq!(h1 + h2, 400);
    // Equal backends take comparable shares: the first requests' wait for
    // a connection is not held against an endpoint.
    assert!(h1 >= 40 && h2 >= 40, "bb-1 took {h1}, bb-2 took {h2}");
    // Pooled: far fewer connections than requests.
    let connects = proxy.connect.connects.load(Ordering::SeqCst);
    assert!(connects <= 40, "{connects} connections for 400 requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_stays_http2_and_http1_travels_upgraded_to_a_proxy() {
    let cp = control_plane().await;
    let b1 = Backend::start("bb-1").await;
    bb(&cp, &[&b1]).await;
    let proxy = proxy(&cp, None).await;

    let mut h2 = http2(proxy.addr).await;
    let request = http::Request::builder()
        .uri(format!("http://{BB}/h2"))
        .body(http_body_util::Empty::new())
        .unwrap();
    let response = h2.send_request(request).await.expect("h2 response");
    assert_eq!(response.headers()["x-version"], "HTTP/2.0");
    assert_eq!(response.headers()["x-orig-proto"], "");
    assert_eq!(response.headers()["x-authority"], BB);
    assert_eq!(read(response).await.0, 200);

    // bb is meshed (discovery hints h2): HTTP/1 goes as an HTTP/2 stream
    // naming its original version, and comes back to the client as HTTP/1.
    let mut h1 = http1(proxy.addr).await;
    let response = send1(&mut h1, get(BB)).await.expect("h1 response");
    assert_eq!(response.version(), http::Version::HTTP_11);
    assert_eq!(response.headers()["x-version"], "HTTP/2.0");
    assert_eq!(response.headers()["x-orig-proto"], "HTTP/1.1");
    assert_eq!(response.headers()["x-authority"], BB);
    assert!(!response.headers().contains_key("l5d-orig-proto"));
    assert_eq!(read(response).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_http1_clients_share_one_connection_to_a_proxy() {
    let cp = control_plane().await;
    let b1 = Backend::start("bb-1").await;
    bb(&cp, &[&b1]).await;
    let proxy = proxy(&cp, None).await;

    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let addr = proxy.addr;
            tokio::spawn(async move {
                let mut sender = http1(addr).await;
                for _ in 0..10 {
                    let response = send1(&mut sender, get(BB)).await.expect("response");
                    assert_eq!(read(response).await.0, 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(b1.hits(), 160);
    let connects = proxy.connect.connects.load(Ordering::SeqCst);
    // One HTTP/2 connection carries them all; the pool may open a second
    // when a request arrives just as the first finishes its handshake.
    assert!(
        connects <= 2,
        "16 clients made {connects} connections instead of sharing one"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http1_to_an_endpoint_without_a_proxy_stays_http1() {
    let cp = control_plane().await;
    let plain = Backend::start("web-1").await;
    apply(&cp.store, service("web", "10.96.0.20", 8080, "http"));
    apply(
        &cp.store,
        pod("web-1", "web", "http", plain.addr.port(), false),
    );
    apply(&cp.store, slice("web-slice", "web", 8080, &["web-1"], true));
    settle(&cp.index, "web", 8080, 1).await;
    let proxy = proxy(&cp, None).await;

    let authority = format!("web.{NS}.svc.cluster.local:8080");
    let mut h1 = http1(proxy.addr).await;
    let response = send1(&mut h1, get(&authority)).await.expect("h1 response");
    assert_eq!(response.headers()["x-version"], "HTTP/1.1");
    assert_eq!(response.headers()["x-orig-proto"], "");
    assert_eq!(read(response).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_an_endpoint_under_load_fails_no_request() {
    let cp = control_plane().await;
    let (b1, mut b2) = (Backend::start("bb-1").await, Backend::start("bb-2").await);
    bb(&cp, &[&b1, &b2]).await;
    let proxy = proxy(&cp, None).await;

    let running = Arc::new(AtomicBool::new(true));
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (addr, running, failures, done) =
                (proxy.addr, running.clone(), failures.clone(), done.clone());
            tokio::spawn(async move {
                // Half the clients keep one connection, half open one per
                // request.
                let mut kept = None;
                while running.load(Ordering::SeqCst) {
                    if i % 2 == 1 || kept.is_none() {
                        kept = Some(http1(addr).await);
                    }
                    let Some(sender) = kept.as_mut() else {
                        unreachable!()
                    };
                    match send1(sender, get(BB)).await {
                        Ok(response) => {
                            let (status, _, body) = read(response).await;
                            if status != 200 {
                                eprintln!("failed: {status} {body}");
                                failures.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(error) => {
                            eprintln!("failed: {error}");
                            failures.fetch_add(1, Ordering::SeqCst);
                            kept = None;
                        }
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
        })
        .collect();

    let deadline = Instant::now() + PATIENCE;
    while b2.hits() == 0 {
        assert!(
            Instant::now() < deadline,
            "bb-2 took no traffic before its removal"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The slice drops bb-2; soon after, bb-2 stops accepting.
    list(&cp, &[&b1]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    b2.stop_accepting();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_removal = b2.hits();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    running.store(false, Ordering::SeqCst);
    for task in tasks {
        task.await.unwrap();
    }
    let total = done.load(Ordering::SeqCst);
    assert!(total > 200, "only {total} requests were sent");
    assert_eq!(failures.load(Ordering::SeqCst), 0, "of {total} requests");
    assert_eq!(b2.hits(), after_removal, "bb-2 still took requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_that_went_away_is_retried_elsewhere() {
    let cp = control_plane().await;
    let (b1, mut b2) = (Backend::start("bb-1").await, Backend::start("bb-2").await);
    bb(&cp, &[&b1, &b2]).await;
    // bb-2 is gone but discovery still lists it.
    b2.stop_accepting();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let proxy = proxy(&cp, None).await;
    for _ in 0..20 {
        let (status, backend, body) = get_once(proxy.addr, BB).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(backend, "bb-1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_endpoint_takes_traffic() {
    let cp = control_plane().await;
    let (b1, b2, b3) = (
        Backend::start("bb-1").await,
        Backend::start("bb-2").await,
        Backend::start("bb-3").await,
    );
    bb(&cp, &[&b1, &b2]).await;
    apply(&cp.store, pod("bb-3", "bb", "http", b3.addr.port(), true));
    let proxy = proxy(&cp, None).await;
    for _ in 0..10 {
        assert_eq!(get_once(proxy.addr, BB).await.0, 200);
    }
    assert_eq!(b3.hits(), 0);

    list(&cp, &[&b1, &b2, &b3]).await;
    // Bursts of 4 clients sending 60 requests each, until bb-3 has taken
    // 10. It starts at Linkerd's default estimate (30 ms), far slower than
    // the others, so its share grows as that estimate decays and as the
    // others' peaks pass; its first request waits for a connection, which
    // is not held against it. A new endpoint that never got a share would
    // fail here.
    let deadline = Instant::now() + 2 * PATIENCE;
    let mut bursts = 0;
    while b3.hits() < 10 {
        assert!(
            Instant::now() < deadline,
            "bb-3 took {} requests in {bursts} bursts of 240",
            b3.hits()
        );
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let addr = proxy.addr;
                tokio::spawn(async move {
                    let mut sender = http1(addr).await;
                    for _ in 0..60 {
                        let response = send1(&mut sender, get(BB)).await.expect("response");
                        assert_eq!(read(response).await.0, 200);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("burst");
        }
        bursts += 1;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_without_ready_endpoints_is_503_within_the_timeout_then_fails_fast() {
    let cp = control_plane().await;
    let _empty = without_ready_endpoints(&cp, "10.96.0.30").await;
    let proxy = proxy(&cp, None).await;

    // The first request waits the whole no-endpoints timeout (1 s)...
    let started = Instant::now();
    let (status, _, body) = get_once(proxy.addr, "empty.mc-demo.svc.cluster.local:8080").await;
    let waited = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("no ready endpoints"), "{body}");
    assert!(!body.contains("fail-fast"), "{body}");
    assert!(
        waited >= Duration::from_millis(900),
        "answered after {waited:?}"
    );

    // ...after which the service is in fail-fast: requests are answered
    // without waiting, and say so.
    let (status, _, body) = get_once(proxy.addr, "empty.mc-demo.svc.cluster.local:8080").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("service in fail-fast"), "{body}");

    // Once the pod is ready, requests go through again.
    apply(
        &cp.store,
        slice("empty-slice", "empty", 8080, &["empty-1"], true),
    );
    settle(&cp.index, "empty", 8080, 1).await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, backend, _) =
            get_once(proxy.addr, "empty.mc-demo.svc.cluster.local:8080").await;
        if status == 200 {
            assert_eq!(backend, "empty-1");
            break;
        }
        assert!(Instant::now() < deadline, "never recovered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_and_unknown_authorities_are_refused_clearly() {
    let cp = control_plane().await;
    let proxy = proxy(&cp, None).await;

    let (status, _, body) = get_once(proxy.addr, "bad host").await;
    assert_eq!(status, 400, "{body}");

    let (status, _, body) = get_once(proxy.addr, "nope.mc-demo.svc.cluster.local:8080").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not exist"), "{body}");

    // The control plane refuses a name outside the cluster's domain.
    let (status, _, body) = get_once(proxy.addr, "bb.mc-demo.svc.other.domain.example:8080").await;
    assert!(status == 502 || status == 503, "{status} {body}");
}
