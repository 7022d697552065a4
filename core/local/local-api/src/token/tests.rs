use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use super::*;

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "strait-local-api-token-{tag}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn tokens_are_long_random_hex_and_never_printed() {
    let a = ApiToken::generate().unwrap();
    let b = ApiToken::generate().unwrap();
    assert_eq!(a.secret().len(), 64);
    assert!(a.secret().bytes().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b);
    assert_eq!(format!("{a:?}"), "ApiToken(..)");
}

#[test]
fn only_the_whole_token_verifies() {
    let token = ApiToken::generate().unwrap();
    let secret = token.secret().as_bytes();
    assert!(token.verify(secret));
    assert!(!token.verify(&secret[..63]));
    assert!(!token.verify(&[secret, b"0"].concat()));
    assert!(!token.verify(b""));
    let mut flipped = secret.to_vec();
    flipped[63] = if flipped[63] == b'0' { b'1' } else { b'0' };
    assert!(!token.verify(&flipped));
}

#[test]
fn the_file_is_owner_only_and_reads_back() {
    let dir = temp_dir("mode");
    let path = dir.join("nested").join("local-api.token");
    let token = ApiToken::generate().unwrap();
    token.write_file(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        mode(&dir.join("nested")),
        0o700,
        "a missing directory is private"
    );
    assert_eq!(ApiToken::read_file(&path).unwrap(), token);
    let names: Vec<_> = fs::read_dir(dir.join("nested"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, ["local-api.token"], "no temporary file is left");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_earlier_file_or_a_planted_link_is_replaced_not_followed() {
    let dir = temp_dir("replace");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("local-api.token");
    // An earlier run's token, readable by all.
    fs::write(&path, "old\n").unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    let token = ApiToken::generate().unwrap();
    token.write_file(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert_eq!(ApiToken::read_file(&path).unwrap(), token);

    // A link planted where the token goes, pointing at a file its planter
    // could read: the token must not land there.
    let bait = dir.join("bait");
    fs::write(&bait, "").unwrap();
    fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&bait, &path).unwrap();
    token.write_file(&path).unwrap();
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_file());
    assert_eq!(mode(&path), 0o600);
    assert_eq!(fs::read_to_string(&bait).unwrap(), "");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_that_is_not_a_token_is_named_and_its_content_kept_out() {
    let dir = temp_dir("malformed");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("local-api.token");
    for text in [
        "short".to_string(),
        "g".repeat(64),
        "A".repeat(64),
        "0".repeat(65),
        "0".repeat(2000),
    ] {
        fs::write(&path, &text).unwrap();
        let err = ApiToken::read_file(&path).unwrap_err().to_string();
        assert!(err.contains("local-api.token"), "{err}");
        assert!(err.contains("not a local API token"), "{err}");
        assert!(!err.contains(&text), "{err}");
    }
    let missing = dir.join("missing.token");
    let err = ApiToken::read_file(&missing).unwrap_err().to_string();
    assert!(err.contains("missing.token"), "{err}");
    fs::remove_dir_all(&dir).unwrap();
}
