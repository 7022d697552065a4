//! The short history of every proxy's metrics that `viz` reads in the
//! embedded runtime, where no Prometheus runs.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How often proxies are scraped: Prometheus' usual interval is longer,
/// but a short one makes the live view and short `viz` windows useful.
pub const SCRAPE_INTERVAL: Duration = Duration::from_secs(2);
/// How much history is kept: longer than the longest window worth asking.
pub const KEEP: Duration = Duration::from_secs(15 * 60);
/// How long one scrape may take before it is skipped.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(1);

/// One scrape: when, and the text the proxy served.
#[derive(Clone, Debug)]
pub struct Sampled {
    /// When the scrape was taken.
    pub at: SystemTime,
    /// The `/metrics` body.
    pub text: Arc<str>,
}

/// Scrapes per pod (`namespace/name`), oldest first.
#[derive(Clone, Debug, Default)]
pub struct History {
    inner: Arc<Mutex<BTreeMap<String, VecDeque<Sampled>>>>,
}

impl History {
    /// Records a scrape of `pod`, dropping what is older than [`KEEP`].
    pub fn push(&self, pod: &str, sample: Sampled) {
        let mut inner = self.inner.lock();
        let ring = inner.entry(pod.to_string()).or_default();
        let horizon = sample.at.checked_sub(KEEP);
        ring.push_back(sample);
        while ring
            .front()
            .zip(horizon)
            .is_some_and(|(oldest, horizon)| oldest.at < horizon)
        {
            ring.pop_front();
        }
    }

    /// The oldest and newest scrape of `pod` inside the last `window`.
    pub fn window(&self, pod: &str, window: Duration) -> (Option<Sampled>, Option<Sampled>) {
        let inner = self.inner.lock();
        let Some(ring) = inner.get(pod) else {
            return (None, None);
        };
        let since = SystemTime::now().checked_sub(window);
        let first = ring
            .iter()
            .find(|s| since.is_none_or(|since| s.at >= since))
            .cloned();
        (first, ring.back().cloned())
    }

    /// Forgets pods that no longer exist.
    pub fn retain(&self, pods: &[String]) {
        let mut inner = self.inner.lock();
        inner.retain(|pod, _| pods.contains(pod));
    }
}

/// `GET /metrics` from a proxy's admin address: the body, or `None` when
/// the proxy does not answer in time.
pub async fn scrape(admin: SocketAddr) -> Option<String> {
    let fetch = async {
        let mut stream = tokio::net::TcpStream::connect(admin).await.ok()?;
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
            .await
            .ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await.ok()?;
        let (head, body) = response.split_once("\r\n\r\n")?;
        head.starts_with("HTTP/1.1 200").then(|| body.to_string())
    };
    tokio::time::timeout(SCRAPE_TIMEOUT, fetch)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests;
