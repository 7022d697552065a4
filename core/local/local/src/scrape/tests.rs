use super::*;

fn sample(seconds_ago: u64, text: &str) -> Sampled {
    Sampled {
        at: SystemTime::now() - Duration::from_secs(seconds_ago),
        text: text.into(),
    }
}

#[test]
fn the_window_spans_the_oldest_and_newest_scrape_inside_it() {
    let history = History::default();
    history.push("mc-demo/bb-1", sample(120, "a"));
    history.push("mc-demo/bb-1", sample(50, "b"));
    history.push("mc-demo/bb-1", sample(2, "c"));
    let (first, last) = history.window("mc-demo/bb-1", Duration::from_secs(60));
    assert_eq!(first.map(|s| s.text.to_string()).as_deref(), Some("b"));
    assert_eq!(last.map(|s| s.text.to_string()).as_deref(), Some("c"));
    let (first, _) = history.window("mc-demo/bb-1", Duration::from_secs(600));
    assert_eq!(first.map(|s| s.text.to_string()).as_deref(), Some("a"));
    assert!(
        history
            .window("mc-demo/other", Duration::from_secs(60))
            .0
            .is_none()
    );
}

#[test]
fn old_scrapes_and_gone_pods_are_forgotten() {
    let history = History::default();
    history.push("a/p", sample(KEEP.as_secs() + 60, "old"));
    history.push("a/p", sample(1, "new"));
    let (first, _) = history.window("a/p", KEEP * 2);
    assert_eq!(first.map(|s| s.text.to_string()).as_deref(), Some("new"));
    history.retain(&[]);
    assert!(history.window("a/p", KEEP).1.is_none());
}
