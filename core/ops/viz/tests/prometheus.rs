//! The PromQL path against a real Prometheus: synthetic proxies served on
//! loopback, scraped every second, must give the rows the kept-scrape path
//! gives on the same counters. Skipped, saying why, when no `prometheus`
//! binary is found (set `STRAIT_PROMETHEUS` to its path, or install it).

mod support;

use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime};

use strait_test_support::net::free_port;
use strait_test_support::process::find_program;
use strait_viz::{
    AuthzRow, PodInfo, PodScrapes, Query, ResourceKind, Scrape, StatRow, authz_from_prometheus,
    authz_from_scrapes, parse_metrics, stat_from_prometheus, stat_from_scrapes,
};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const WINDOW: Duration = Duration::from_secs(10);

/// The pods: bb (one pod), web (two pods), legacy (unmeshed).
const PODS: [(&str, &str, bool); 4] = [
    ("bb-1", "bb", true),
    ("web-1", "web", true),
    ("web-2", "web", true),
    ("legacy-1", "legacy", false),
];

/// Each meshed proxy's counters after `t` seconds of steady traffic.
fn proxies_at(t: f64) -> Vec<Proxy> {
    let count = |rate: f64| (rate * t).floor() as u64;
    let mut proxies = Vec::new();
    for (pod, deployment, meshed) in PODS {
        if !meshed {
            continue;
        }
        let proxy = Proxy::new("viz-test", pod, deployment);
        if deployment == "bb" {
            let good = inbound(SLOW_COOKER, "server", "bb", "default");
            proxy.respond(&good, "200", "success", count(70.0), 7.0);
            proxy.respond(&good, "200", "success", count(30.0), 15.0);
            proxy.respond(&good, "500", "failure", count(10.0), 7.0);
            proxy.allow(&good, ("authorizationpolicy", "bb-authz"), count(110.0));
            let evil = inbound(EVIL, "server", "bb", "default");
            proxy.respond(&evil, "403", "success", count(10.0), 0.5);
            proxy.deny(&evil, count(10.0));
            proxy.connections(3);
        } else {
            let probe = inbound(KUBELET, "default", "all-unauthenticated", "default");
            proxy.respond(&probe, "200", "success", count(5.0), 0.5);
            proxy.allow(&probe, ("default", "all-unauthenticated"), count(5.0));
            proxy.connections(1);
        }
        proxies.push(proxy);
    }
    proxies
}

fn page_at(t: f64) -> String {
    // One page for all proxies: a single OpenMetrics document, so one
    // `# EOF` at the end.
    let mut page = String::new();
    for proxy in proxies_at(t) {
        for line in proxy.encode().lines() {
            if line != "# EOF" {
                page.push_str(line);
                page.push('\n');
            }
        }
    }
    page.push_str("# EOF\n");
    page
}

async fn serve_metrics(start: Instant) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let body = page_at(start.elapsed().as_secs_f64());
                let response = format!(
                    "HTTP/1.1 200 OK\r\n\
                     Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    port
}

fn scrapes_at(t: f64, now: SystemTime) -> Vec<PodScrapes> {
    let samples = |t: f64| parse_metrics(&page_at(t)).expect("page parses");
    let first = samples(t - WINDOW.as_secs_f64());
    let last = samples(t);
    PODS.iter()
        .map(|(pod, deployment, meshed)| {
            let mine = |all: &[strait_viz::Sample]| -> Vec<strait_viz::Sample> {
                all.iter()
                    .filter(|s| s.labels.get("pod").map(String::as_str) == Some(*pod))
                    .cloned()
                    .collect()
            };
            let scrape =
                |samples: Vec<strait_viz::Sample>, at| meshed.then_some(Scrape { at, samples });
            PodScrapes {
                namespace: "viz-test".into(),
                pod: (*pod).into(),
                deployment: Some((*deployment).into()),
                replicaset: None,
                statefulset: None,
                meshed: *meshed,
                ready: true,
                first: scrape(mine(&first), now - WINDOW),
                last: scrape(mine(&last), now),
            }
        })
        .collect()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1e-9)
}

fn assert_stat_rows_match(direct: &[StatRow], prom: &[StatRow]) {
    assert_eq!(direct.len(), prom.len(), "{direct:#?}\n{prom:#?}");
    for (d, p) in direct.iter().zip(prom) {
        assert_eq!(
            (&d.namespace, &d.name, d.meshed_pods, d.total_pods),
            (&p.namespace, &p.name, p.meshed_pods, p.total_pods)
        );
        let (ds, ps) = (
            d.stats.as_ref().expect("direct"),
            p.stats.as_ref().expect("prom"),
        );
        assert!(
            close(ds.request_rate, ps.request_rate, 0.05),
            "{d:?}\n{p:?}"
        );
        assert!(
            (ds.success_rate - ps.success_rate).abs() < 0.01,
            "{d:?}\n{p:?}"
        );
        for (a, b) in [
            (ds.latency_ms_p50, ps.latency_ms_p50),
            (ds.latency_ms_p95, ps.latency_ms_p95),
            (ds.latency_ms_p99, ps.latency_ms_p99),
        ] {
            assert!(a.abs_diff(b) <= 1, "{d:?}\n{p:?}");
        }
        assert_eq!(ds.tcp_open_connections, ps.tcp_open_connections);
    }
}

fn assert_authz_rows_match(direct: &[AuthzRow], prom: &[AuthzRow]) {
    assert_eq!(direct.len(), prom.len(), "{direct:#?}\n{prom:#?}");
    for (d, p) in direct.iter().zip(prom) {
        assert_eq!(
            (d.server(), &d.route, d.authorization()),
            (p.server(), &p.route, p.authorization())
        );
        assert!(close(d.request_rate, p.request_rate, 0.05), "{d:?}\n{p:?}");
        assert!(
            close(d.unauthorized_rate, p.unauthorized_rate, 0.05),
            "{d:?}\n{p:?}"
        );
        assert!(
            (d.success_rate - p.success_rate).abs() < 0.01,
            "{d:?}\n{p:?}"
        );
        assert!(
            d.latency_ms_p50.abs_diff(p.latency_ms_p50) <= 1,
            "{d:?}\n{p:?}"
        );
        assert!(
            d.latency_ms_p99.abs_diff(p.latency_ms_p99) <= 1,
            "{d:?}\n{p:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_and_scrapes_give_the_same_rows() {
    let Some(binary) = find_program("STRAIT_PROMETHEUS", "prometheus") else {
        strait_test_support::tool_missing!(
            "no prometheus binary on PATH (install it, e.g. apt-get install -y prometheus, or set STRAIT_PROMETHEUS)"
        );
        return;
    };
    let start = Instant::now();
    let metrics_port = serve_metrics(start).await;
    let prom_port = free_port();
    let dir = std::env::temp_dir().join(format!(
        "strait-viz-prometheus-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: proxies\n    honor_labels: true\n    scrape_interval: 1s\n\
             \x20   static_configs:\n      - targets: ['127.0.0.1:{metrics_port}']\n"
        ),
    )
    .expect("config");
    let mut child = match tokio::process::Command::new(&binary)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(child) => child,
        Err(error) => {
            strait_test_support::tool_missing!("cannot run {}: {error}", binary.display());
            return;
        }
    };
    let url = format!("http://127.0.0.1:{prom_port}");

    // Wait for Prometheus to have scraped the proxies, then for a window
    // and a bit of data.
    let stat_query = Query {
        namespace: Some("viz-test".into()),
        resource: ResourceKind::Deployment,
        name: None,
        window: WINDOW,
    };
    let pods: Vec<PodInfo> = PODS
        .iter()
        .map(|(pod, deployment, meshed)| PodInfo {
            namespace: "viz-test".into(),
            name: (*pod).into(),
            deployment: Some((*deployment).into()),
            replicaset: None,
            statefulset: None,
            meshed: *meshed,
            ready: true,
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    let first_data = loop {
        match stat_from_prometheus(&url, &stat_query, &pods).await {
            Ok(rows) if rows.iter().any(|r| r.stats.is_some()) => break Instant::now(),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(rows) => panic!("no data from prometheus in time: {rows:?}"),
            Err(error) => panic!("prometheus never answered: {error}"),
        }
    };
    tokio::time::sleep(
        (first_data + WINDOW + Duration::from_secs(2)).duration_since(Instant::now()),
    )
    .await;

    let t = start.elapsed().as_secs_f64();
    let now = SystemTime::now();
    let prom_stat = stat_from_prometheus(&url, &stat_query, &pods)
        .await
        .expect("stat from prometheus");
    let authz_query = Query {
        namespace: Some("viz-test".into()),
        resource: ResourceKind::Deployment,
        name: None,
        window: WINDOW,
    };
    let prom_authz = authz_from_prometheus(&url, &authz_query)
        .await
        .expect("authz from prometheus");
    let bb_only = Query {
        name: Some("bb".into()),
        ..stat_query.clone()
    };
    let prom_bb = stat_from_prometheus(&url, &bb_only, &pods)
        .await
        .expect("stat of bb");
    let error = stat_from_prometheus("http://127.0.0.1:1", &stat_query, &pods)
        .await
        .expect_err("nothing listens on port 1");
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);

    let scrapes = scrapes_at(t, now);
    let direct_stat = stat_from_scrapes(&stat_query, &scrapes);
    let direct_authz = authz_from_scrapes(&authz_query, &scrapes);

    // The kept-scrape rows are the expected numbers exactly.
    let names: Vec<&str> = direct_stat.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["bb", "web"], "legacy has no meshed pod");
    let bb = direct_stat[0].stats.as_ref().expect("bb traffic");
    assert!(close(bb.request_rate, 120.0, 0.02), "{bb:?}");
    assert!((bb.success_rate - 110.0 / 120.0).abs() < 0.005, "{bb:?}");
    assert_eq!(
        (
            bb.latency_ms_p50,
            bb.latency_ms_p95,
            bb.latency_ms_p99,
            bb.tcp_open_connections
        ),
        (8, 18, 20, 3)
    );
    let web = direct_stat[1].stats.as_ref().expect("web traffic");
    assert_eq!(
        (direct_stat[1].meshed_pods, direct_stat[1].total_pods),
        (2, 2)
    );
    assert!(close(web.request_rate, 10.0, 0.05), "{web:?}");
    assert_eq!(web.tcp_open_connections, 2);

    assert_stat_rows_match(&direct_stat, &prom_stat);
    assert_eq!(prom_bb.len(), 1);
    assert_stat_rows_match(&direct_stat[..1], &prom_bb);
    assert_authz_rows_match(&direct_authz, &prom_authz);
    assert_eq!(direct_authz.len(), 3, "{direct_authz:#?}");

    let message = error.to_string();
    assert!(
        message.contains("http://127.0.0.1:1/api/v1/query?query="),
        "{message}"
    );
    assert!(message.contains("request failed"), "{message}");
}
