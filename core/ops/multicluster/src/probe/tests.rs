use std::time::Duration;

use strait_api::link::{Link, LinkSpec, ProbeSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

fn link(address: Option<&str>, probe: Option<ProbeSpec>) -> Link {
    Link::new(
        "east",
        LinkSpec {
            gateway_address: address.map(str::to_string),
            probe_spec: probe,
            ..LinkSpec::default()
        },
    )
}

#[test]
fn the_first_gateway_address_is_probed_as_the_link_says() {
    assert!(ProbeTarget::of(&link(None, None)).is_none());
    assert!(ProbeTarget::of(&link(Some(" , "), None)).is_none());
    let target = ProbeTarget::of(&link(
        Some(" 203.0.113.7 ,198.51.100.2"),
        Some(ProbeSpec {
            path: Some("/health".into()),
            port: Some("4192".into()),
            timeout: Some("2s".into()),
            ..ProbeSpec::default()
        }),
    ))
    .unwrap()
    .unwrap();
    assert_eq!(
        target,
        ProbeTarget {
            address: "203.0.113.7".into(),
            port: 4192,
            path: "/health".into(),
            timeout: Duration::from_secs(2),
        }
    );
    // Linkerd's defaults, and a long timeout cut to what a user waits.
    let target = ProbeTarget::of(&link(
        Some("gw.example"),
        Some(ProbeSpec {
            timeout: Some("30s".into()),
            ..ProbeSpec::default()
        }),
    ))
    .unwrap()
    .unwrap();
    assert_eq!((target.port, target.path.as_str()), (4191, "/ready"));
    assert_eq!(target.timeout, MAX_WAIT);
    let err = ProbeTarget::of(&link(
        Some("gw.example"),
        Some(ProbeSpec {
            port: Some("http".into()),
            ..ProbeSpec::default()
        }),
    ))
    .unwrap()
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "spec.probeSpec.port \"http\" is not a port number"
    );
}

/// A server answering each connection with `status`, recording the request.
async fn answering(status: &'static str) -> (u16, tokio::sync::mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buf = vec![0u8; 1024];
            let n = stream.read(&mut buf).await.unwrap_or(0);
            let _ = tx
                .send(String::from_utf8_lossy(&buf[..n]).into_owned())
                .await;
            let _ = stream
                .write_all(format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\n\r\n").as_bytes())
                .await;
        }
    });
    (port, rx)
}

#[tokio::test]
async fn only_a_2xx_answer_is_alive() {
    let (port, mut requests) = answering("200 OK").await;
    let target = ProbeTarget {
        address: "127.0.0.1".into(),
        port,
        path: "/ready".into(),
        timeout: Duration::from_secs(2),
    };
    assert!(target.probe().await.is_ok());
    let request = requests.recv().await.unwrap();
    assert!(request.starts_with("GET /ready HTTP/1.1\r\n"), "{request}");

    let (port, _requests) = answering("503 Service Unavailable").await;
    let down = ProbeTarget { port, ..target };
    assert_eq!(
        down.probe().await.unwrap_err().to_string(),
        format!("http://127.0.0.1:{port}/ready answered 503")
    );
}

#[test]
fn latencies_print_in_whole_milliseconds() {
    assert_eq!(millis(Duration::from_micros(2_900)), "2ms");
}

const MIRROR_METRICS: &str = "\
# HELP gateway_alive 1 while the Link's gateway answers its probe.
# TYPE gateway_alive gauge
gateway_alive{link=\"east\"} 1
gateway_alive{link=\"north\"} 0
# TYPE gateway_latency histogram
gateway_latency_sum{link=\"east\"} 10.5
gateway_latency_count{link=\"east\"} 3
gateway_latency_bucket{le=\"1.0\",link=\"east\"} 0
gateway_latency_sum{link=\"north\"} 4.0
gateway_latency_count{link=\"north\"} 1
";

#[test]
fn the_mirrors_metrics_say_alive_and_the_mean_latency() {
    assert_eq!(
        from_metrics(MIRROR_METRICS, "east"),
        Some(Health {
            alive: true,
            latency: Some("4ms".into()),
            why: None,
            seen: Seen::ByMirror,
        })
    );
    let north = from_metrics(MIRROR_METRICS, "north").unwrap();
    assert!(!north.alive);
    assert_eq!(north.latency, None);
    assert!(north.why.unwrap().contains("gateway_alive is 0"));
    // A standby replica, or another Link's mirror, has no series for it.
    assert_eq!(from_metrics(MIRROR_METRICS, "west"), None);
    assert_eq!(from_metrics("", "east"), None);
}
