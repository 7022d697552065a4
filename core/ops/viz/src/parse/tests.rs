use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use strait_proxy_metrics::{Labels, ProxyMetrics};

use super::*;

#[test]
fn reads_prometheus_text_0_0_4() {
    let text = "# HELP http_requests_total The total.\n\
                # TYPE http_requests_total counter\n\
                http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n\
                http_requests_total{ code = \"400\" , method=\"post\", } 3\n\
                \n\
                msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n\
                metric_without_labels 12.47\n\
                # A comment.\n\
                rpc_duration_seconds_bucket{le=\"+Inf\"} 144320\n\
                gauge_nan NaN\n\
                gauge_neg -Inf\n";
    let samples = parse_metrics(text).unwrap();
    assert_eq!(samples.len(), 7);
    assert_eq!(samples[0].name, "http_requests_total");
    assert_eq!(samples[0].label("code"), "200");
    assert_eq!(samples[0].value, 1027.0);
    assert_eq!(samples[1].label("code"), "400");
    assert_eq!(samples[1].label("method"), "post");
    assert_eq!(samples[2].label("path"), "C:\\DIR\\FILE.TXT");
    assert_eq!(samples[2].label("error"), "Cannot find file:\n\"FILE.TXT\"");
    assert_eq!(samples[2].value, 1.458255915e9);
    assert!(samples[3].labels.is_empty());
    assert_eq!(samples[4].label("le"), "+Inf");
    assert!(samples[5].value.is_nan());
    assert_eq!(samples[6].value, f64::NEG_INFINITY);
}

#[test]
fn reads_prometheus_client_output() {
    let metrics = ProxyMetrics::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);
    let labels = Labels::inbound().with("srv_name", "bb").build();
    let mut with_class = labels.clone();
    with_class.push(("classification".into(), "success".into()));
    metrics.response_total.get_or_create(&with_class).inc_by(5);
    metrics
        .response_latency_ms
        .get_or_create(&labels)
        .observe(3.5);
    metrics.tcp_open_connections.get_or_create(&labels).set(2);
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(text.ends_with("# EOF\n"), "{text}");

    let samples = parse_metrics(&text).unwrap();
    let find = |name: &str, le: Option<&str>| {
        samples
            .iter()
            .find(|s| s.name == name && le.is_none_or(|le| s.label("le") == le))
            .unwrap_or_else(|| panic!("{name} {le:?} in {text}"))
    };
    let response = find("response_total", None);
    assert_eq!(response.value, 5.0);
    assert_eq!(response.label("direction"), "inbound");
    assert_eq!(response.label("classification"), "success");
    assert_eq!(find("response_latency_ms_bucket", Some("3.0")).value, 0.0);
    assert_eq!(find("response_latency_ms_bucket", Some("4.0")).value, 1.0);
    assert_eq!(find("response_latency_ms_bucket", Some("+Inf")).value, 1.0);
    assert_eq!(find("response_latency_ms_sum", None).value, 3.5);
    assert_eq!(find("response_latency_ms_count", None).value, 1.0);
    assert_eq!(find("tcp_open_connections", None).value, 2.0);
}

#[test]
fn drops_exemplars() {
    let samples =
        parse_metrics("foo_total{a=\"b\"} 17 # {trace_id=\"x\"} 1 1520879607.789\n# EOF\n")
            .unwrap();
    assert_eq!(samples[0].value, 17.0);
}

#[test]
fn errors_name_the_line() {
    let cases = [
        (
            "ok 1\nbroken{a=\"b\" 1\n",
            2,
            LineFault::AfterLabel("a".into()),
        ),
        (
            "ok 1\n\n# c\nnovalue\n",
            4,
            LineFault::NoValueAfter("novalue".into()),
        ),
        ("bad{a=b} 1\n", 1, LineFault::Unquoted("a".into())),
        ("x 1\ny{a=\"1\"} one\n", 2, LineFault::Value("one".into())),
        ("1abc 2\n", 1, LineFault::MetricName("1abc".into())),
        ("x 1 2 3\n", 1, LineFault::AfterValue("3".into())),
    ];
    for (text, line, fault) in cases {
        let error = parse_metrics(text).unwrap_err();
        assert_eq!(
            (error.line, &error.fault),
            (line, &fault),
            "{text:?}: {error}"
        );
        assert!(
            error
                .to_string()
                .starts_with(&format!("metrics line {line}: "))
        );
    }
}
