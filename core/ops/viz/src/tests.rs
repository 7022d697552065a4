use super::*;

/// A sample named `name` with exactly `labels`, for the modules' tests.
pub(crate) fn sample(name: &str, labels: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        name: name.into(),
        labels: labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        value,
    }
}

#[test]
fn windows_in_go_notation() {
    assert_eq!(parse_window("1m").unwrap(), Duration::from_secs(60));
    assert_eq!(parse_window("30s").unwrap(), Duration::from_secs(30));
    assert_eq!(parse_window("1m30s").unwrap(), Duration::from_secs(90));
    assert_eq!(parse_window("15s").unwrap(), MIN_WINDOW);
    assert_eq!(parse_window("").unwrap(), DEFAULT_WINDOW);
}

#[test]
fn short_and_malformed_windows_are_refused() {
    let error = parse_window("10s").unwrap_err();
    assert!(matches!(error, VizError::WindowTooShort(_)));
    assert!(error.to_string().contains("at least 15s"), "{error}");
    assert!(matches!(
        parse_window("14999ms"),
        Err(VizError::WindowTooShort(_))
    ));
    assert!(matches!(
        parse_window("60"),
        Err(VizError::InvalidWindow(_))
    ));
    assert!(matches!(
        parse_window("a minute"),
        Err(VizError::InvalidWindow(_))
    ));
}
