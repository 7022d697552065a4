use super::*;

#[test]
fn renewal_comes_at_seventy_percent_of_what_is_left() {
    let config = CertifyConfig::default();
    let now = SystemTime::now();
    let renew = config.renew_in(now + Duration::from_secs(100), now);
    assert_eq!(renew, Duration::from_secs(70));
}

#[test]
fn renewal_never_comes_sooner_than_the_minimum() {
    let config = CertifyConfig::default();
    let now = SystemTime::now();
    assert_eq!(config.renew_in(now, now), Duration::from_secs(1));
    assert_eq!(
        config.renew_in(now - Duration::from_secs(5), now),
        Duration::from_secs(1)
    );
}

#[test]
fn a_nonsense_fraction_falls_back_to_the_default() {
    let config = CertifyConfig {
        renew_fraction: f64::NAN,
        ..CertifyConfig::default()
    };
    let now = SystemTime::now();
    assert_eq!(
        config.renew_in(now + Duration::from_secs(10), now),
        Duration::from_secs(7)
    );
}

#[tokio::test]
async fn tokens_are_trimmed_and_empty_ones_refused() {
    let fixed = TokenSource::Fixed(b"  abc\n".to_vec());
    assert_eq!(fixed.read().await.expect("token"), b"abc");
    let err = TokenSource::Fixed(b"\n".to_vec())
        .read()
        .await
        .expect_err("empty");
    assert!(err.to_string().contains("empty"), "{err}");
    let err = TokenSource::File(PathBuf::from("/nonexistent/token"))
        .read()
        .await
        .expect_err("missing");
    assert!(err.to_string().starts_with("/nonexistent/token"), "{err}");
}
