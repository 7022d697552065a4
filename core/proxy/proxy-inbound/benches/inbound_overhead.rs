//! Per-request overhead of the inbound HTTP path: sequential HTTP/1
//! requests on one keep-alive connection, straight to a local application
//! and through `Inbound::serve_connection` (policy lookup, route match, a
//! plugin decision, metrics, forwarding). Prints mean, p50 and p99.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use http::StatusCode;
use support::*;

const WARMUP: usize = 200;
const REQUESTS: usize = 5_000;

async fn measure(addr: SocketAddr) -> Vec<Duration> {
    let mut client = h1(addr).await;
    for _ in 0..WARMUP {
        assert_eq!(send1(&mut client, get("/bench")).await.0, StatusCode::OK);
    }
    let mut samples = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let started = Instant::now();
        let (status, _) = send1(&mut client, get("/bench")).await;
        samples.push(started.elapsed());
        assert_eq!(status, StatusCode::OK);
    }
    samples.sort_unstable();
    samples
}

fn summary(name: &str, samples: &[Duration]) -> f64 {
    let mean = samples.iter().sum::<Duration>().as_secs_f64() / samples.len() as f64;
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    println!(
        "{name:<28} mean {:>8.1} µs   p50 {:>8.1} µs   p99 {:>8.1} µs",
        mean * 1e6,
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
    );
    mean
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mesh = mesh().await;
        guide_policy(&mesh.store);
        wait_for_server(&mesh, HTTP_PORT, "bb").await;
        let app = http_app().await;
        let proxy = proxy(&mesh, "bb-1", app.addr, PATIENCE);
        let inbound = proxy.listen(mtls(SLOW_COOKER), HTTP_PORT).await;

        let direct = summary("direct to the app", &measure(app.addr).await);
        let through = summary("through the inbound side", &measure(inbound).await);
        println!(
            "inbound overhead per request: {:.1} µs",
            (through - direct) * 1e6
        );
    });
}
