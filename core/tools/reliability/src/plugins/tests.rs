use super::wire::{padded, parse_response, plugin_calls};
use super::*;
use strait_plugin_host::{HostConfig, PluginHost, PluginMetrics, PluginSource};

#[test]
fn a_plain_response_is_read_with_its_body() {
    let response =
        b"HTTP/1.1 403 Forbidden\r\ncontent-length: 30\r\n\r\nunauthorized request on route\n";
    assert_eq!(
        parse_response(response),
        Some((
            403,
            "HTTP/1.1 403 Forbidden".to_string(),
            "unauthorized request on route".to_string()
        ))
    );
}

#[test]
fn a_chunked_body_is_decoded() {
    let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
    let (code, _, body) = parse_response(response).unwrap_or_default();
    assert_eq!(code, 200);
    assert_eq!(body, "hello world");
}

#[test]
fn what_is_not_http_is_not_a_response() {
    assert_eq!(parse_response(b""), None);
    assert_eq!(parse_response(b"\x15\x03\x03 tls alert"), None);
}

#[test]
fn plugin_calls_sums_the_counters_of_one_version_and_outcome() {
    let metrics = "\
# HELP plugin_calls Plugin calls by plugin, version and outcome
# TYPE plugin_calls counter
plugin_calls_total{plugin=\"authz\",version=\"drill-faulty\",outcome=\"timeout\"} 5
plugin_calls_total{plugin=\"authz\",version=\"drill-faulty\",outcome=\"ok\"} 812
plugin_calls_total{plugin=\"authz\",version=\"drill-default\",outcome=\"timeout\"} 1
plugin_calls_total{plugin=\"export\",version=\"drill-faulty\",outcome=\"timeout\"} 7
plugin_call_duration_seconds_bucket{plugin=\"authz\",version=\"drill-faulty\",outcome=\"timeout\",le=\"0.01\"} 5
";
    assert_eq!(plugin_calls(metrics, "drill-faulty", "timeout"), 5);
    assert_eq!(plugin_calls(metrics, "drill-faulty", "ok"), 812);
    assert_eq!(plugin_calls(metrics, "drill-faulty", "trap"), 0);
}

#[test]
fn padding_appends_one_custom_section_of_the_asked_size() {
    let base = b"\0asm\x0d\0\x01\0";
    let out = padded(base, 300);
    assert_eq!(&out[..base.len()], base);
    // Section id 0, then the payload length (1 + 7 + 300 = 308) as LEB128.
    assert_eq!(&out[base.len()..base.len() + 3], &[0, 0xb4, 0x02]);
    assert_eq!(&out[base.len() + 3..base.len() + 11], b"\x07padding");
    assert_eq!(out.len(), base.len() + 3 + 308);
}

#[test]
fn the_padded_default_plugin_still_passes_the_push_check() -> Result<(), String> {
    let host =
        PluginHost::new(HostConfig::default(), PluginMetrics::new()).map_err(|e| e.to_string())?;
    let bytes = padded(AUTHZ_DEFAULT, 1 << 20);
    let plugin = PluginSource::Bytes {
        name: "padded",
        bytes: &bytes,
    }
    .read()
    .map_err(|e| e.to_string())?;
    host.check(PluginKind::Authz, &plugin)
        .map(drop)
        .map_err(|e| e.to_string())
}
