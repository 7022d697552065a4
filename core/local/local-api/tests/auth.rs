//! The attacks on the local API, made over real sockets as the attacker
//! would make them: another local user with no token or a guessed one, a
//! web page that rebinds its own name to 127.0.0.1 (a foreign `Host`), and
//! a web page's "simple" cross-origin POST (`Content-Type: text/plain`,
//! which a browser sends without asking first). Each must be refused
//! before it reaches the store. Then the way in that stays open: the
//! `strait` command's client with the token from the file the registry
//! names, a file only its owner can read.

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use strait_local_api::{
    ApiToken, ClusterBackend, LocalClient, LocalContext, Registry, ServeError, serve,
};
use strait_store::MemoryStore;
use strait_test_support::net::{any_port, http_raw};
use support::TestCluster;

/// A Namespace: the smallest change an attacker could make.
const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata: {name: owned}\n";

/// A running API over one cluster, `east`, and what a client needs to
/// reach it.
struct Served {
    addr: SocketAddr,
    token: ApiToken,
    store: MemoryStore,
}

impl Served {
    async fn start() -> Served {
        let store = MemoryStore::new();
        let east: Arc<dyn ClusterBackend> = Arc::new(TestCluster {
            name: "east".into(),
            store: store.clone(),
        });
        let token = ApiToken::generate().unwrap();
        let (addr, _task) = serve(any_port(), vec![east], token.clone()).await.unwrap();
        Served { addr, token, store }
    }

    /// `127.0.0.1:PORT`: the Host a client of this server sends.
    fn host(&self) -> String {
        self.addr.to_string()
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.token.secret())
    }

    /// Sends `method path` with `headers` and `body`, and the length and
    /// `Connection: close` every request needs.
    async fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut request = format!("{method} {path} HTTP/1.1\r\n");
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ));
        http_raw(self.addr, request.as_bytes()).await
    }

    /// Asserts that nothing reached the store.
    fn untouched(&self) {
        assert_eq!(self.store.write_count(), 0, "a refused request wrote");
    }
}

const APPLY: &str = "/v1/clusters/east/apply";

#[tokio::test]
async fn a_request_without_a_token_is_refused_with_401() {
    let api = Served::start().await;
    let host = api.host();
    let (status, body) = api
        .send(
            "POST",
            APPLY,
            &[("Host", &host), ("Content-Type", "application/yaml")],
            NAMESPACE,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("token"), "{body}");
    // Reads need it too: the store holds Secrets (a Link's credentials).
    let (status, body) = api
        .send("GET", "/v1/clusters", &[("Host", &host)], "")
        .await;
    assert_eq!(status, 401, "{body}");
    api.untouched();
}

#[tokio::test]
async fn a_request_with_a_wrong_token_is_refused_with_401() {
    let api = Served::start().await;
    let host = api.host();
    let right = api.bearer();
    let wrong = [
        format!("Bearer {}", "f".repeat(64)),
        right[..right.len() - 1].to_string(),
        format!("{right}0"),
        format!("Basic {}", api.token.secret()),
        api.token.secret().to_string(),
        "Bearer".to_string(),
    ];
    for authorization in &wrong {
        let (status, body) = api
            .send(
                "POST",
                APPLY,
                &[
                    ("Host", &host),
                    ("Authorization", authorization),
                    ("Content-Type", "application/yaml"),
                ],
                NAMESPACE,
            )
            .await;
        assert_eq!(status, 401, "{authorization:?}: {body}");
        assert!(body.contains("token"), "{body}");
    }
    // The right token twice is not the right token once.
    let (status, body) = api
        .send(
            "POST",
            APPLY,
            &[
                ("Host", &host),
                ("Authorization", &right),
                ("Authorization", &right),
                ("Content-Type", "application/yaml"),
            ],
            NAMESPACE,
        )
        .await;
    assert_eq!(status, 401, "{body}");
    api.untouched();
}

#[tokio::test]
async fn a_foreign_host_is_refused_even_with_the_right_token() {
    let api = Served::start().await;
    let port = api.addr.port();
    let bearer = api.bearer();
    let other_port = port.wrapping_add(1).max(1);
    let foreign = [
        format!("evil.example:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.nip.io:{port}"),
        format!("127.0.0.1:{other_port}"),
        format!("localhost:{other_port}"),
        "evil.example".to_string(),
    ];
    for host in &foreign {
        let (status, body) = api
            .send(
                "POST",
                APPLY,
                &[
                    ("Host", host),
                    ("Authorization", &bearer),
                    ("Content-Type", "application/yaml"),
                ],
                NAMESPACE,
            )
            .await;
        assert_eq!(status, 421, "{host}: {body}");
        assert!(body.contains(host.as_str()), "{body}");
    }
    // No Host at all is no better.
    let (status, body) = api
        .send(
            "POST",
            APPLY,
            &[
                ("Authorization", &bearer),
                ("Content-Type", "application/yaml"),
            ],
            NAMESPACE,
        )
        .await;
    assert_eq!(status, 421, "{body}");
    api.untouched();
}

#[tokio::test]
async fn a_browser_simple_post_is_refused_with_415() {
    let api = Served::start().await;
    let host = api.host();
    let bearer = api.bearer();
    // The three types a browser posts cross-origin without a preflight,
    // and no type at all.
    let simple = [
        Some("text/plain"),
        Some("text/plain; charset=utf-8"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ];
    for content_type in simple {
        let mut headers = vec![("Host", host.as_str()), ("Authorization", bearer.as_str())];
        headers.extend(content_type.map(|t| ("Content-Type", t)));
        let (status, body) = api.send("POST", APPLY, &headers, NAMESPACE).await;
        assert_eq!(status, 415, "{content_type:?}: {body}");
        assert!(body.contains("application/yaml"), "{body}");
    }
    // delete and label take JSON only.
    let delete = r#"{"kind": "Namespace", "name": "mc-demo"}"#;
    for content_type in ["text/plain", "application/yaml"] {
        let (status, body) = api
            .send(
                "POST",
                "/v1/clusters/east/delete",
                &[
                    ("Host", &host),
                    ("Authorization", &bearer),
                    ("Content-Type", content_type),
                ],
                delete,
            )
            .await;
        assert_eq!(status, 415, "{content_type}: {body}");
        assert!(body.contains("application/json"), "{body}");
    }
    api.untouched();
}

#[tokio::test]
async fn the_right_token_host_and_type_are_served() {
    let api = Served::start().await;
    let port = api.addr.port();
    let bearer = api.bearer();
    let hosts = [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("LocalHost:{port}"),
        format!("[::1]:{port}"),
    ];
    let types = [
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "application/json",
        "Application/YAML; charset=utf-8",
    ];
    for (content_type, host) in types.iter().zip(hosts.iter().cycle()) {
        let (status, body) = api
            .send(
                "POST",
                APPLY,
                &[
                    ("Host", host),
                    ("Authorization", &bearer),
                    ("Content-Type", content_type),
                ],
                NAMESPACE,
            )
            .await;
        assert_eq!(status, 200, "{host} {content_type}: {body}");
    }
    let (status, body) = api
        .send(
            "POST",
            "/v1/clusters/east/delete",
            &[
                ("Host", &hosts[0]),
                ("Authorization", &bearer),
                ("Content-Type", "application/json; charset=utf-8"),
            ],
            r#"{"kind": "Namespace", "name": "owned"}"#,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = api
        .send(
            "GET",
            "/v1/clusters",
            &[("Host", &hosts[1]), ("Authorization", &bearer)],
            "",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"east\""), "{body}");
}

#[tokio::test]
async fn the_client_sends_its_token_and_a_wrong_one_is_named() {
    let api = Served::start().await;
    let url = format!("http://{}", api.addr);
    let east = LocalClient::new("east", &url, api.token.clone()).unwrap();
    east.apply(NAMESPACE, None).await.unwrap();
    assert_eq!(east.clusters().await.unwrap().len(), 1);

    let stranger = LocalClient::new("east", &url, ApiToken::generate().unwrap()).unwrap();
    let writes = api.store.write_count();
    let err = stranger.apply(NAMESPACE, None).await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert!(
        err.to_string().contains("wrong API token"),
        "the user reads why: {err}"
    );
    assert_eq!(api.store.write_count(), writes);
}

fn temp_home(tag: &str) -> PathBuf {
    let home = std::env::temp_dir().join(format!(
        "strait-local-api-auth-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&home);
    home
}

#[tokio::test]
async fn the_token_file_is_owner_only_and_the_registry_leads_the_client_to_it() {
    let api = Served::start().await;
    let home = temp_home("file");
    let registry = Registry::in_dir(&home);
    let token_file = registry.token_file(api.addr);
    api.token.write_file(&token_file).unwrap();
    let mode = std::fs::metadata(&token_file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "{}", token_file.display());
    assert_eq!(token_file.parent(), registry.path().parent());

    let entry = LocalContext {
        api: format!("http://{}", api.addr),
        dir: home.join("east"),
        pid: std::process::id(),
        token_file: Some(token_file.clone()),
    };
    registry
        .register(&BTreeMap::from([("east".to_string(), entry)]))
        .unwrap();
    let found = registry.lookup("east").unwrap().unwrap();
    let east = LocalClient::for_context("east", &found).unwrap();
    east.apply(NAMESPACE, None).await.unwrap();

    // The registry, readable by others, holds the file's name, not the token.
    let registry_text = std::fs::read_to_string(registry.path()).unwrap();
    assert!(!registry_text.contains(api.token.secret()));

    std::fs::remove_file(&token_file).unwrap();
    let err = LocalClient::for_context("east", &found)
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read its API token"), "{err}");
    assert!(err.contains(&token_file.display().to_string()), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[tokio::test]
async fn the_api_listens_on_loopback_only() {
    let east: Arc<dyn ClusterBackend> = Arc::new(TestCluster {
        name: "east".into(),
        store: MemoryStore::new(),
    });
    let token = ApiToken::generate().unwrap();
    let err = serve("0.0.0.0:0".parse().unwrap(), vec![east], token)
        .await
        .unwrap_err();
    assert!(matches!(err, ServeError::NotLoopback { .. }), "{err}");
    assert!(err.to_string().contains("0.0.0.0:0"), "{err}");
}
