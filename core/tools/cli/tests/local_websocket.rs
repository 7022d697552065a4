//! A WebSocket through two proxies in `strait local`: the pod-to-pod
//! example runs, `examples/pod-to-pod/websocket-east.yaml` adds
//! jmalloc/echo-server in east (meshed, exported pod to pod, the guide's
//! policy on its port), and this test speaks as west's slow-cooker pod
//! (from its address, through its proxy's outbound port, as the pod's own
//! application would): the handshake crosses slow-cooker's proxy and the
//! echo pod's, is authorized there, and the messages echo through the
//! tunnel. slow-cooker-evil's handshake is refused (403). Both proxies
//! count the upgrade as Linkerd's do: one request answered 101.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use guide::{Workspace, http_get};
use strait_test_support::guide::{EVIL, SLOW_COOKER};
use strait_test_support::net::connect_from;
use strait_test_support::scrape;
use strait_test_support::websocket::{
    MASK, OPCODE_BINARY, OPCODE_CLOSE, OPCODE_TEXT, echo, frame, handshake, header, read_frame,
    status,
};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The echo Service's mirror in west, as slow-cooker's application names it.
const HOST: &str = "echo-target.mc-demo.svc.cluster.local:8080";
/// The proxy's outbound port, where a meshed pod's connections go.
const OUTBOUND_PORT: u16 = 4140;
/// RFC 6455's answer to the tests' key.
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The address of the `app` pod in `cluster`.
fn pod_ip(ws: &Workspace, cluster: &str, app: &str) -> IpAddr {
    let pods = ws.pods(cluster);
    let pod = pods
        .iter()
        .find(|p| p["metadata"]["labels"]["app"] == app)
        .unwrap_or_else(|| panic!("no {app} pod in {cluster}: {pods:?}"));
    pod["status"]["podIP"]
        .as_str()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or_else(|| panic!("{app} has no address: {pod}"))
}

/// A WebSocket handshake for `HOST` from the pod at `ip`, through its
/// proxy: the connection and the answer's head.
async fn upgrade_from(ip: IpAddr) -> (TcpStream, String) {
    let proxy = SocketAddr::new(ip, OUTBOUND_PORT);
    let mut stream = connect_from(ip, proxy)
        .await
        .unwrap_or_else(|| panic!("{ip} cannot reach its proxy"));
    let head = handshake(&mut stream, HOST, "/", "websocket")
        .await
        .expect("the handshake is sent")
        .unwrap_or_default();
    (stream, head)
}

/// `family` series of the proxy at `admin` with every label of `having`,
/// summed.
fn count(admin: &str, family: &str, having: &[String]) -> f64 {
    let having: Vec<&str> = having.iter().map(String::as_str).collect();
    scrape::sum(&http_get(admin, "/metrics"), family, &having)
}

#[test]
fn a_websocket_echoes_through_two_proxies() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("websocket", &[]);
    let up = ws.local_up(&[]);
    let file = Workspace::example("websocket-east.yaml");
    let applied = ws.ok(&["--context", "east", "apply", "-f", &file.to_string_lossy()]);
    assert!(
        applied.contains("deployment.apps/echo created")
            && applied.contains("authorizationpolicy.policy.linkerd.io/echo-authz created"),
        "{applied}"
    );
    ws.wait_running();
    let slow_cooker = pod_ip(&ws, "west", "slow-cooker");
    let evil = pod_ip(&ws, "west", "slow-cooker-evil");
    let echo_admin = format!("{}:4191", pod_ip(&ws, "east", "echo"));

    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let greeting = runtime.block_on(async {
        // The mirror, its endpoints in east and the echo pod's policy
        // arrive asynchronously: until then the handshake is refused.
        let deadline = Instant::now() + Duration::from_secs(60);
        let (mut stream, head) = loop {
            let (stream, head) = upgrade_from(slow_cooker).await;
            if status(&head) == 101 || Instant::now() > deadline {
                break (stream, head);
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        };
        assert_eq!(status(&head), 101, "{head}");
        assert_eq!(
            header(&head, "sec-websocket-accept").as_deref(),
            Some(ACCEPT)
        );
        let greeting = read_frame(&mut stream).await.expect("the greeting");
        for size in [5usize, 1_000, 100_000] {
            let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let echoed = echo(&mut stream, &payload).await.expect("an echo");
            assert_eq!(echoed, Some((OPCODE_BINARY, payload)), "size {size}");
        }
        stream
            .write_all(&frame(OPCODE_TEXT, b"through two proxies", Some(MASK)))
            .await
            .expect("a text message");
        assert_eq!(
            read_frame(&mut stream).await.expect("its echo"),
            Some((OPCODE_TEXT, b"through two proxies".to_vec()))
        );
        stream
            .write_all(&frame(OPCODE_CLOSE, &1000u16.to_be_bytes(), Some(MASK)))
            .await
            .expect("a close");
        assert_eq!(
            read_frame(&mut stream).await.expect("the close answered"),
            Some((OPCODE_CLOSE, 1000u16.to_be_bytes().to_vec()))
        );

        // The echo pod's policy admits slow-cooker only: the upgrade
        // request of another client is refused and nothing is upgraded.
        let (_, refused) = upgrade_from(evil).await;
        assert_eq!(status(&refused), 403, "{refused}");
        greeting
    });
    let (opcode, text) = greeting.expect("a greeting before the end");
    assert_eq!(opcode, OPCODE_TEXT);
    let text = String::from_utf8_lossy(&text);
    assert!(text.starts_with("Request served by echo-"), "{text}");

    // The echo pod's proxy: the upgrade as one request of slow-cooker's,
    // over mTLS, answered 101; slow-cooker-evil's refused.
    let over_mtls = |client: &str| {
        vec![
            "direction=\"inbound\"".to_string(),
            "tls=\"true\"".to_string(),
            format!("client_id=\"{client}\""),
        ]
    };
    let mut upgraded = over_mtls(SLOW_COOKER);
    upgraded.push("status_code=\"101\"".into());
    assert_eq!(count(&echo_admin, "response_total", &upgraded), 1.0);
    let mut admitted = over_mtls(SLOW_COOKER);
    admitted.push("srv_name=\"echo\"".into());
    assert!(count(&echo_admin, "inbound_http_authz_allow_total", &admitted) >= 1.0);
    let mut refused = over_mtls(EVIL);
    refused.push("srv_name=\"echo\"".into());
    assert!(count(&echo_admin, "inbound_http_authz_deny_total", &refused) >= 1.0);
    // slow-cooker's own proxy counted the 101 it was answered.
    let client_admin = format!("{slow_cooker}:4191");
    let outbound = [
        "direction=\"outbound\"".to_string(),
        "status_code=\"101\"".to_string(),
    ];
    assert!(count(&client_admin, "response_total", &outbound) >= 1.0);
    up.stop();
}
