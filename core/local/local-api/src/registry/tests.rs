use std::collections::BTreeMap;
use std::path::PathBuf;

use super::*;

fn temp_home(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "strait-local-api-registry-{tag}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn context(port: u16, pid: u32) -> LocalContext {
    LocalContext {
        api: format!("http://127.0.0.1:{port}"),
        dir: PathBuf::from(format!("/clusters/{port}")),
        pid,
        token_file: Some(PathBuf::from(format!(
            "/strait-home/local-api-{pid}-{port}.token"
        ))),
    }
}

/// A pid that no process has: beyond the kernel's maximum.
const DEAD_PID: u32 = 4_194_305;

#[test]
fn register_lookup_unregister_round_trip() {
    let home = temp_home("round-trip");
    let registry = Registry::in_dir(&home);
    assert_eq!(registry.lookup("east").unwrap(), None);
    let own = std::process::id();
    let contexts = BTreeMap::from([
        ("east".to_string(), context(1001, own)),
        ("west".to_string(), context(1002, own)),
    ]);
    registry.register(&contexts).unwrap();
    assert_eq!(registry.lookup("east").unwrap(), Some(context(1001, own)));
    assert_eq!(registry.contexts().unwrap(), contexts);
    let text = std::fs::read_to_string(home.join("local-contexts.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["contexts"]["west"]["api"], "http://127.0.0.1:1002");
    assert_eq!(json["contexts"]["west"]["pid"], own);

    registry.unregister(&["east"]).unwrap();
    assert_eq!(registry.lookup("east").unwrap(), None);
    assert_eq!(registry.lookup("west").unwrap(), Some(context(1002, own)));
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn entries_of_dead_processes_are_ignored_and_replaced() {
    let home = temp_home("stale");
    std::fs::create_dir_all(&home).unwrap();
    let stale = serde_json::json!({"contexts": {"east": {
        "api": "http://127.0.0.1:9", "dir": "/gone", "pid": DEAD_PID}}});
    std::fs::write(home.join("local-contexts.json"), stale.to_string()).unwrap();
    let registry = Registry::in_dir(&home);
    assert_eq!(registry.lookup("east").unwrap(), None);
    assert!(registry.contexts().unwrap().is_empty());

    let own = std::process::id();
    let contexts = BTreeMap::from([("east".to_string(), context(1003, own))]);
    registry.register(&contexts).unwrap();
    assert_eq!(registry.lookup("east").unwrap(), Some(context(1003, own)));
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn a_name_served_by_another_live_process_is_refused() {
    let home = temp_home("in-use");
    let registry = Registry::in_dir(&home);
    // pid 1 is alive on every Linux system.
    let other = BTreeMap::from([("east".to_string(), context(1004, 1))]);
    registry.register(&other).unwrap();
    let mine = BTreeMap::from([("east".to_string(), context(1005, std::process::id()))]);
    let err = registry.register(&mine).unwrap_err().to_string();
    assert!(err.contains("local-contexts.json"), "{err}");
    assert!(err.contains("process 1"), "{err}");
    // Unregistering does not remove another process's entry.
    registry.unregister(&["east"]).unwrap();
    assert_eq!(registry.lookup("east").unwrap(), Some(context(1004, 1)));
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn a_malformed_file_is_named_in_the_error() {
    let home = temp_home("malformed");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("local-contexts.json"), "{not json").unwrap();
    let err = Registry::in_dir(&home)
        .lookup("east")
        .unwrap_err()
        .to_string();
    assert!(err.contains("local-contexts.json"), "{err}");
    assert!(err.contains("not a local contexts file"), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}

#[test]
fn an_entry_names_its_token_file_and_reads_the_token_from_it() {
    let home = temp_home("token");
    let registry = Registry::in_dir(&home);
    let api: std::net::SocketAddr = "127.0.0.1:1006".parse().unwrap();
    let token_file = registry.token_file(api);
    assert_eq!(token_file.parent(), Some(home.as_path()));
    assert_eq!(
        token_file.file_name().and_then(|n| n.to_str()),
        Some(format!("local-api-{}-1006.token", std::process::id()).as_str())
    );
    let token = crate::ApiToken::generate().unwrap();
    token.write_file(&token_file).unwrap();
    let entry = LocalContext {
        token_file: Some(token_file),
        ..context(1006, std::process::id())
    };
    registry
        .register(&BTreeMap::from([("east".to_string(), entry)]))
        .unwrap();
    let found = registry.lookup("east").unwrap().unwrap();
    assert_eq!(found.token("east").unwrap(), token);

    // An entry from before tokens still parses, and says what to do.
    let old = serde_json::json!({"api": "http://127.0.0.1:9", "dir": "/d", "pid": 1});
    let old: LocalContext = serde_json::from_value(old).unwrap();
    let err = old.token("west").unwrap_err().to_string();
    assert!(err.contains("\"west\""), "{err}");
    assert!(err.contains("restart it"), "{err}");
    std::fs::remove_dir_all(&home).unwrap();
}
