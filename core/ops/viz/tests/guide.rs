//! The guide's `viz stat` and `viz authz` tables, reproduced from two
//! scrapes of synthetic proxies 60 s apart.

mod support;

use std::time::{Duration, SystemTime};

use strait_viz::{
    Output, PodScrapes, Query, ResourceKind, Scrape, authz_from_scrapes, format_authz, format_stat,
    parse_metrics, stat_from_scrapes,
};
use support::*;

fn scrape(proxy: &Proxy, at: SystemTime) -> Scrape {
    let text = proxy.encode();
    Scrape {
        at,
        samples: parse_metrics(&text).expect("prometheus-client output parses"),
    }
}

fn pod(first: Scrape, last: Scrape) -> PodScrapes {
    PodScrapes {
        namespace: "mc-demo".into(),
        pod: "bb-5d8d7b7c6-x2x4z".into(),
        deployment: Some("bb".into()),
        replicaset: None,
        statefulset: None,
        meshed: true,
        ready: true,
        first: Some(first),
        last: Some(last),
    }
}

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn stat_query() -> Query {
    Query {
        namespace: Some("mc-demo".into()),
        resource: ResourceKind::Deployment,
        name: None,
        window: Duration::from_secs(60),
    }
}

fn authz_query() -> Query {
    Query {
        namespace: Some("mc-demo".into()),
        resource: ResourceKind::Deployment,
        name: None,
        window: Duration::from_secs(60),
    }
}

/// bb receiving 10.3 rps from slow-cooker, all under a millisecond, over
/// three connections.
fn stat_scrapes() -> PodScrapes {
    let proxy = Proxy::new("mc-demo", "bb-5d8d7b7c6-x2x4z", "bb");
    let good = inbound(SLOW_COOKER, "server", "bb", "default");
    proxy.connections(3);
    proxy.respond(&good, "200", "success", 1_234, 0.5);
    let first = scrape(&proxy, start());
    proxy.respond(&good, "200", "success", 618, 0.5);
    let last = scrape(&proxy, start() + Duration::from_secs(60));
    pod(first, last)
}

#[test]
fn stat_prints_the_guide_table() {
    let rows = stat_from_scrapes(&stat_query(), &[stat_scrapes()]);
    assert_eq!(
        format_stat(&rows, Output::Table),
        "NAME   MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN\n\
         bb        1/1   100.00%   10.3rps           1ms           1ms           1ms          3\n"
    );
}

#[test]
fn stat_json_has_linkerds_fields() {
    let rows = stat_from_scrapes(&stat_query(), &[stat_scrapes()]);
    let json: serde_json::Value =
        serde_json::from_str(&format_stat(&rows, Output::Json)).expect("json");
    let expected = serde_json::json!([{
        "namespace": "mc-demo",
        "kind": "deployment",
        "name": "bb",
        "meshed": "1/1",
        "success": 1,
        "rps": 10.3,
        "latency_ms_p50": 1,
        "latency_ms_p95": 1,
        "latency_ms_p99": 1,
        "tcp_open_connections": 3,
        "tcp_read_bytes_rate": 0,
        "tcp_write_bytes_rate": 0
    }]);
    assert_eq!(json, expected);
    let text = format_stat(&rows, Output::Json);
    let keys: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('"'))
        .filter_map(|l| l.split('"').next())
        .collect();
    assert_eq!(
        keys,
        [
            "namespace",
            "kind",
            "name",
            "meshed",
            "success",
            "rps",
            "latency_ms_p50",
            "latency_ms_p95",
            "latency_ms_p99",
            "tcp_open_connections",
            "tcp_read_bytes_rate",
            "tcp_write_bytes_rate"
        ],
        "Linkerd's field order"
    );
}

#[test]
fn stat_wide_adds_byte_rates() {
    let rows = stat_from_scrapes(&stat_query(), &[stat_scrapes()]);
    assert_eq!(
        format_stat(&rows, Output::Wide),
        "NAME   MESHED   SUCCESS       RPS   LATENCY_P50   LATENCY_P95   LATENCY_P99   TCP_CONN   READ_BYTES/SEC   WRITE_BYTES/SEC\n\
         bb        1/1   100.00%   10.3rps           1ms           1ms           1ms          3           0.0B/s            0.0B/s\n"
    );
}

fn authz_scrapes(evil_rps: u64) -> PodScrapes {
    let proxy = Proxy::new("mc-demo", "bb-5d8d7b7c6-x2x4z", "bb");
    guide_traffic(&proxy, 120, evil_rps);
    let first = scrape(&proxy, start());
    guide_traffic(&proxy, 60, evil_rps);
    let last = scrape(&proxy, start() + Duration::from_secs(60));
    pod(first, last)
}

// Linkerd's table writes two spaces after every cell, the last included;
// the guide's copy lost some of those trailing spaces.
const AUTHZ_HEADER: &str = "ROUTE    SERVER                       AUTHORIZATION                 UNAUTHORIZED  SUCCESS      RPS  LATENCY_P50  LATENCY_P95  LATENCY_P99  \n";
const AUTHZ_GOOD: &str = "default  bb                           authorizationpolicy/bb-authz        0.0rps  100.00%  10.0rps          1ms          1ms          1ms  \n\
default  default:all-unauthenticated  default/all-unauthenticated         0.0rps  100.00%   0.1rps          1ms          1ms          1ms  \n\
probe    default:all-unauthenticated  default/probe                       0.0rps  100.00%   0.2rps          1ms          1ms          1ms  \n";
const AUTHZ_DENIED: &str = "default  bb                                                              10.0rps    0.00%   0.0rps          0ms          0ms          0ms  \n";

#[test]
fn authz_prints_the_guide_table() {
    let rows = authz_from_scrapes(&authz_query(), &[authz_scrapes(0)]);
    assert_eq!(
        format_authz(&rows, Output::Table),
        format!("{AUTHZ_HEADER}{AUTHZ_GOOD}")
    );
}

#[test]
fn authz_prints_the_denial_row() {
    let rows = authz_from_scrapes(&authz_query(), &[authz_scrapes(10)]);
    assert_eq!(
        format_authz(&rows, Output::Table),
        format!("{AUTHZ_HEADER}{AUTHZ_DENIED}{AUTHZ_GOOD}")
    );
    // The guide's lines, trailing spaces aside.
    let guide = [
        "ROUTE    SERVER                       AUTHORIZATION                 UNAUTHORIZED  SUCCESS      RPS  LATENCY_P50  LATENCY_P95  LATENCY_P99",
        "default  bb                                                              10.0rps    0.00%   0.0rps          0ms          0ms          0ms",
        "default  bb                           authorizationpolicy/bb-authz        0.0rps  100.00%  10.0rps          1ms          1ms          1ms",
        "default  default:all-unauthenticated  default/all-unauthenticated         0.0rps  100.00%   0.1rps          1ms          1ms          1ms",
        "probe    default:all-unauthenticated  default/probe                       0.0rps  100.00%   0.2rps          1ms          1ms          1ms",
    ];
    let printed = format_authz(&rows, Output::Table);
    let trimmed: Vec<&str> = printed.lines().map(str::trim_end).collect();
    assert_eq!(trimmed, guide);
}

#[test]
fn authz_json_reads_back_linkerds_cells() {
    let rows = authz_from_scrapes(&authz_query(), &[authz_scrapes(10)]);
    let json: serde_json::Value =
        serde_json::from_str(&format_authz(&rows, Output::Json)).expect("json");
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert_eq!(
        json[0],
        serde_json::json!({
            "route": "default", "server": "bb", "authorization": "",
            "unauthorized": 10, "success": 0, "rps": 0,
            "latency_ms_p50": 0, "latency_ms_p95": 0, "latency_ms_p99": 0
        })
    );
    assert_eq!(json[2]["rps"], serde_json::json!(0.1));
    assert_eq!(json[1]["authorization"], "authorizationpolicy/bb-authz");
    assert_eq!(json[1]["success"], serde_json::json!(1));
}
