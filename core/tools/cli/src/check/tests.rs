use super::plugins::{KeyStatus, classify};

#[test]
fn a_keys_status_says_whether_a_plugin_serves_it() {
    assert_eq!(
        classify("active 1.2.0 (sha256 46f463cb2a9b)"),
        KeyStatus::Active
    );
    assert_eq!(
        classify("rejected: not a Wasm component; still active: 1.1.0 (sha256 0a1b2c3d4e5f)"),
        KeyStatus::RejectedStillServing
    );
    assert_eq!(
        classify("rejected: not a Wasm component; no plugin of this key is active"),
        KeyStatus::Down
    );
    assert_eq!(classify(""), KeyStatus::Down);
}
