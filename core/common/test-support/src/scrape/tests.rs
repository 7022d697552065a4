use super::*;

#[test]
fn only_the_familys_series_with_every_label_are_summed() {
    let text = "# TYPE request_total counter\n\
        request_total{direction=\"inbound\",client_id=\"a\"} 2\n\
        request_total{direction=\"inbound\",client_id=\"b\"} 3\n\
        request_total{direction=\"outbound\",client_id=\"a\"} 5\n\
        request_totals{direction=\"inbound\",client_id=\"a\"} 7\n";
    assert_eq!(sum(text, "request_total", &["direction=\"inbound\""]), 5.0);
    assert_eq!(
        sum(
            text,
            "request_total",
            &["direction=\"inbound\"", "client_id=\"a\""]
        ),
        2.0
    );
    assert_eq!(sum(text, "request_total", &["client_id=\"c\""]), 0.0);
    assert_eq!(sum(text, "response_total", &[]), 0.0);
}

#[test]
fn a_label_is_read_whole_even_with_commas_and_quotes_in_values() {
    let labels = r#"authority="a,b",msg="say \"hi\"",status_code="403""#;
    assert_eq!(label(labels, "authority"), Some("a,b"));
    assert_eq!(label(labels, "msg"), Some(r#"say \"hi\""#));
    assert_eq!(label(labels, "status_code"), Some("403"));
    assert_eq!(label(labels, "code"), None);
}

#[test]
fn increases_count_new_and_remade_series_from_zero() {
    let before = "c_total{k=\"steady\"} 4\nc_total{k=\"grew\"} 4\nc_total{k=\"remade\"} 9\n";
    let after = "c_total{k=\"steady\"} 4\nc_total{k=\"grew\"} 6\nc_total{k=\"remade\"} 2\n\
                 c_total{k=\"new\"} 1\n";
    assert_eq!(
        increases(before, after, "c_total", &[]),
        vec![
            ("k=\"grew\"", 2.0),
            ("k=\"remade\"", 2.0),
            ("k=\"new\"", 1.0)
        ]
    );
}

use crate::guide::{EVIL, SLOW_COOKER as GOOD};

/// slow-cooker's proxy after `ok` 200s and `refused` 403s from bb.
fn client(ok: u32, refused: u32) -> String {
    let labels = "direction=\"outbound\",authority=\"bb-target:8080\",tls=\"true\"";
    let mut text =
        format!("response_total{{{labels},status_code=\"200\",classification=\"success\"}} {ok}\n");
    if refused > 0 {
        text.push_str(&format!(
            "response_total{{{labels},status_code=\"403\",classification=\"success\"}} {refused}\n"
        ));
    }
    text
}

/// bb's proxy after refusing `good` of slow-cooker's requests with plugin
/// `version`, and `evil` of slow-cooker-evil's. A refusal is never in
/// bb's `response_total`: its success rate stays 100% throughout.
fn server(good: u32, evil: u32, version: &str) -> String {
    let labels = "direction=\"inbound\",tls=\"true\",srv_name=\"bb\"";
    let mut text = format!(
        "response_total{{{labels},client_id=\"{GOOD}\",status_code=\"200\",classification=\"success\"}} 100\n\
         inbound_http_authz_deny_total{{{labels},client_id=\"{EVIL}\",plugin_version=\"{version}\"}} {evil}\n"
    );
    if good > 0 {
        text.push_str(&format!(
            "inbound_http_authz_deny_total{{{labels},client_id=\"{GOOD}\",plugin_version=\"{version}\"}} {good}\n"
        ));
    }
    text
}

/// Both proxies: slow-cooker's answers (`ok` 200s, `refused` 403s), and
/// bb's refusals of slow-cooker and slow-cooker-evil by plugin `version`.
fn readings(ok: u32, refused: u32, (good, evil): (u32, u32), version: &str) -> Readings {
    Readings {
        client: client(ok, refused),
        server: server(good, evil, version),
    }
}

#[test]
fn a_client_answered_with_2xx_only_was_served_throughout() {
    let before = readings(100, 0, (0, 100), "v1");
    // slow-cooker-evil refused all along does not count against slow-cooker.
    let after = readings(130, 0, (0, 130), "v2");
    assert_eq!(served_throughout(&before, &after, GOOD), Ok(30.0));
}

#[test]
fn a_swap_that_refuses_the_client_briefly_is_reported_from_both_sides() {
    let before = readings(100, 0, (0, 100), "v1");
    let after = readings(125, 5, (5, 130), "v2");
    let failure = served_throughout(&before, &after, GOOD).expect_err("5 refused");
    assert!(
        failure.contains("5 answered 403 (success) to bb-target:8080"),
        "{failure}"
    );
    assert!(
        failure.contains(
            "5 refused by the server's proxy (inbound_http_authz_deny_total, plugin version v2)"
        ),
        "{failure}"
    );
    // What the server's own success rate saw across the same window.
    assert_eq!(
        sum(
            &after.server,
            "response_total",
            &["classification=\"failure\""]
        ),
        0.0
    );
}

#[test]
fn an_error_of_the_clients_own_proxy_is_reported() {
    let before = readings(100, 0, (0, 0), "v1");
    let mut after = before.clone();
    after.client = client(120, 0)
        + "response_total{direction=\"outbound\",authority=\"bb-target:8080\",status_code=\"502\",classification=\"failure\"} 3\n";
    let failure = served_throughout(&before, &after, GOOD).expect_err("3 failed");
    assert!(failure.contains("3 answered 502 (failure)"), "{failure}");
}

#[test]
fn an_error_the_clients_proxy_answered_itself_is_reported() {
    let before = readings(100, 0, (0, 0), "v1");
    let mut after = before.clone();
    after.client = client(120, 0) + "outbound_http_errors_total{error=\"failfast\"} 4\n";
    let failure = served_throughout(&before, &after, GOOD).expect_err("4 failed fast");
    assert!(
        failure.contains("4 answered by the client's own proxy (failfast)"),
        "{failure}"
    );
}

#[test]
fn no_answer_at_all_is_not_served() {
    let quiet = readings(100, 0, (0, 0), "v1");
    let failure = served_throughout(&quiet, &quiet, GOOD).expect_err("no traffic");
    assert!(failure.contains("no request answered"), "{failure}");
}
