use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use super::*;
use crate::testing::{cluster, store_with};

#[test]
fn the_table_aligns_its_columns_and_dashes_a_dead_gateway() {
    let rows = [
        Row {
            cluster: "target".into(),
            alive: true,
            services: 2,
            latency: Some("3ms".into()),
        },
        Row {
            cluster: "a-long-name".into(),
            alive: false,
            services: 10,
            latency: None,
        },
    ];
    assert_eq!(
        render(&rows),
        "CLUSTER      ALIVE  NUM_SVC  LATENCY\n\
         target       True   2        3ms\n\
         a-long-name  False  10       -\n"
    );
    assert_eq!(render(&[]), "CLUSTER  ALIVE  NUM_SVC  LATENCY\n");
}

#[tokio::test]
async fn each_gateway_link_is_probed_and_its_gateway_mirrors_counted() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let live = listener.local_addr().unwrap().port();
    let _gateway = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .await;
        }
    });
    // A port nothing listens on: bound, then released.
    let dead = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let yaml = format!(
        r#"
apiVersion: v1
kind: Namespace
metadata: {{name: linkerd}}
---
apiVersion: v1
kind: Namespace
metadata: {{name: mc-demo}}
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata: {{name: east, namespace: linkerd}}
spec: {{targetClusterName: east, gatewayAddress: "127.0.0.1", gatewayPort: "4143", probeSpec: {{port: "{live}", path: /ready}}}}
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata: {{name: north, namespace: linkerd}}
spec: {{targetClusterName: north, gatewayAddress: "127.0.0.1", gatewayPort: "4143", probeSpec: {{port: "{dead}", path: /ready, timeout: 1s}}}}
---
apiVersion: multicluster.linkerd.io/v1alpha3
kind: Link
metadata: {{name: pod-to-pod, namespace: linkerd}}
spec: {{targetClusterName: pod-to-pod}}
---
apiVersion: v1
kind: Service
metadata: {{name: a-east, namespace: mc-demo, labels: {{mirror.linkerd.io/cluster-name: east}}}}
spec: {{ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: b-east, namespace: mc-demo, labels: {{mirror.linkerd.io/cluster-name: east}}}}
spec: {{ports: [{{port: 80}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: c-east, namespace: mc-demo, labels: {{mirror.linkerd.io/cluster-name: east, multicluster.linkerd.io/remote-discovery: east}}}}
spec: {{ports: [{{port: 80}}]}}
"#
    );
    let west = cluster(
        "west",
        store_with(&yaml),
        "https://west.example:6443",
        Vec::new(),
    );
    let rows = rows(&west).await.unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].cluster, "east");
    assert!(rows[0].alive);
    assert_eq!(rows[0].services, 2);
    assert!(
        rows[0]
            .latency
            .as_deref()
            .is_some_and(|l| l.ends_with("ms")),
        "{rows:?}"
    );
    assert_eq!(
        rows[1],
        Row {
            cluster: "north".into(),
            alive: false,
            services: 0,
            latency: None,
        }
    );
}
