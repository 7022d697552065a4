use super::*;

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + secs)
}

fn scrape(secs: u64) -> Scrape {
    Scrape {
        at: at(secs),
        samples: vec![],
    }
}

#[test]
fn window_gives_the_oldest_and_newest_scrape_inside_it() {
    let mut history = History::new(Duration::from_secs(600));
    let pod = PodKey::new("mc-demo", "bb-1");
    for secs in (0..=120).step_by(10) {
        history.push(pod.clone(), scrape(secs));
    }
    let (first, last) = history.window_at(&pod, Duration::from_secs(60), at(125));
    assert_eq!(first.map(|s| s.at), Some(at(70)));
    assert_eq!(last.map(|s| s.at), Some(at(120)));
    let (first, last) = history.window_at(&pod, Duration::from_secs(60), at(120));
    assert_eq!((first.unwrap().at, last.unwrap().at), (at(60), at(120)));
    // One scrape in the window: both are it.
    let (first, last) = history.window_at(&pod, Duration::from_secs(3), at(121));
    assert_eq!((first.unwrap().at, last.unwrap().at), (at(120), at(120)));
    // None in the window, or an unknown pod.
    assert_eq!(
        history.window_at(&pod, Duration::from_secs(60), at(500)),
        (None, None)
    );
    assert_eq!(
        history.window_at(&PodKey::new("x", "y"), Duration::from_secs(60), at(120)),
        (None, None)
    );
}

#[test]
fn keeps_only_keep() {
    let mut history = History::new(Duration::from_secs(30));
    let pod = PodKey::new("mc-demo", "bb-1");
    for secs in (0..=100).step_by(10) {
        history.push(pod.clone(), scrape(secs));
    }
    let (first, _) = history.window_at(&pod, Duration::from_secs(1000), at(100));
    assert_eq!(first.unwrap().at, at(70));
    // A clock stepping back starts the pod over.
    history.push(pod.clone(), scrape(50));
    let (first, last) = history.window_at(&pod, Duration::from_secs(1000), at(100));
    assert_eq!((first.unwrap().at, last.unwrap().at), (at(50), at(50)));
}

#[test]
fn prune_and_remove_forget_pods() {
    let mut history = History::new(Duration::from_secs(30));
    let (a, b) = (PodKey::new("ns", "a"), PodKey::new("ns", "b"));
    history.push(a.clone(), scrape(0));
    history.push(b.clone(), scrape(100));
    history.prune(at(110));
    assert_eq!(history.pods().collect::<Vec<_>>(), [&b]);
    history.remove(&b);
    assert_eq!(history.pods().count(), 0);
}
