use std::net::{IpAddr, Ipv4Addr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

fn metrics(version: &str) -> String {
    format!(
        "# TYPE plugin_active_version gauge\n\
         plugin_active_version{{pod=\"bb-1\",plugin=\"export\",version=\"{version}\"}} 1\n\
         plugin_active_version{{pod=\"bb-1\",plugin=\"authz\",version=\"soak-0\"}} 0\n\
         plugin_active_version{{pod=\"bb-1\",plugin=\"authz\",version=\"{version}\"}} 1\n"
    )
}

/// A proxy's admin endpoint serving `body` as its metrics.
async fn admin(body: String) -> SocketAddr {
    let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut request = vec![0; 2048];
            let _ = stream.read(&mut request).await;
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
        }
    });
    addr
}

#[test]
fn only_the_active_authz_series_of_the_version_counts() {
    let text = metrics("soak-1");
    assert_eq!(
        active_authz_line(&text, "soak-1"),
        Some("plugin_active_version{pod=\"bb-1\",plugin=\"authz\",version=\"soak-1\"} 1")
    );
    // Inactive, another plugin's, or not there at all.
    assert_eq!(active_authz_line(&text, "soak-0"), None);
    assert_eq!(
        active_authz_line(&metrics("x").replace("authz", "a"), "x"),
        None
    );
    assert_eq!(active_authz_line(&text, "soak-2"), None);
    assert_eq!(active_authz_versions(&text), vec!["soak-1".to_string()]);
}

#[tokio::test]
async fn a_plugin_that_never_reaches_bb_is_not_delivered() {
    // The control plane may report soak-2 active; bb's proxy still runs
    // soak-1, so the push is not delivered.
    let addr = admin(metrics("soak-1")).await;
    let error = wait_active_in_proxy(addr, "soak-2", Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        error.contains("soak-2 not active in bb's proxy") && error.contains("active: soak-1"),
        "{error}"
    );
    let line = wait_active_in_proxy(addr, "soak-1", Duration::from_secs(10))
        .await
        .unwrap();
    assert!(line.contains("version=\"soak-1\"} 1"), "{line}");
}
