//! Latency the outbound HTTP path adds: p50 and p99 of sequential GETs
//! over one kept-alive HTTP/1.1 connection, sent directly to a loopback
//! backend and sent through `serve_connection` (discovery by a real
//! destination server, balancing, pooled connection to the backend).

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::*;

const WARMUP: usize = 500;
const REQUESTS: usize = 10_000;

async fn measure(addr: SocketAddr, authority: &str) -> Vec<Duration> {
    let mut sender = http1(addr).await;
    let mut latencies = Vec::with_capacity(REQUESTS);
    for i in 0..WARMUP + REQUESTS {
        let started = Instant::now();
        let response = send1(&mut sender, get(authority)).await.expect("response");
        let (status, _, _) = read(response).await;
        let elapsed = started.elapsed();
        assert_eq!(status, 200);
        if i >= WARMUP {
            latencies.push(elapsed);
        }
    }
    latencies.sort();
    latencies
}

fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cp = control_plane().await;
        let backend = Backend::start("bb-1").await;
        bb(&cp, &[&backend]).await;
        let proxy = proxy(&cp, None).await;

        let direct = measure(backend.addr, BB).await;
        let proxied = measure(proxy.addr, BB).await;
        let (d50, d99) = (quantile(&direct, 0.5), quantile(&direct, 0.99));
        let (p50, p99) = (quantile(&proxied, 0.5), quantile(&proxied, 0.99));
        println!("outbound HTTP/1.1 latency over {REQUESTS} sequential requests");
        println!("  direct:  p50 {d50:>10.1?}  p99 {d99:>10.1?}");
        println!("  proxied: p50 {p50:>10.1?}  p99 {p99:>10.1?}");
        println!(
            "  ratio:   p50 {:.2}x  p99 {:.2}x   added p50 {:.1?}",
            p50.as_secs_f64() / d50.as_secs_f64(),
            p99.as_secs_f64() / d99.as_secs_f64(),
            p50.saturating_sub(d50)
        );
    });
}
