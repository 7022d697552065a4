//! The query of a log request (`tailLines`, `sinceSeconds`, `timestamps`,
//! `limitBytes`) applied to a container's lines the way the kubelet
//! applies it to a log file: the last `tailLines` lines, of those the ones
//! written within `sinceSeconds`, each optionally prefixed with its time,
//! and the whole cut after `limitBytes` bytes.

use std::time::{Duration, SystemTime};

use super::LogLine;

/// What a log request asks for, beyond the container and `follow`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Only the last this many lines (`tailLines`); all when `None`.
    pub tail_lines: Option<u64>,
    /// Only lines written in the last this many seconds (`sinceSeconds`).
    pub since_seconds: Option<u64>,
    /// Only lines written at or after this time (`sinceTime`).
    pub since_time: Option<SystemTime>,
    /// Each line prefixed with its RFC 3339 time and a space (`timestamps`).
    pub timestamps: bool,
    /// At most this many bytes in all (`limitBytes`); a line may be cut.
    pub limit_bytes: Option<u64>,
}

impl LogOptions {
    /// The earliest time a line may have, `now` being the request's time.
    fn since(&self, now: SystemTime) -> Option<SystemTime> {
        let by_seconds = self
            .since_seconds
            .and_then(|s| now.checked_sub(Duration::from_secs(s)));
        match (by_seconds, self.since_time) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }

    /// The lines of `lines` (oldest first) the request wants: the tail
    /// first, then the time filter, as the kubelet seeks to the tail of the
    /// file and skips what is too old.
    pub fn select(&self, lines: &[LogLine], now: SystemTime) -> Vec<LogLine> {
        let skip = match self.tail_lines {
            Some(tail) => lines
                .len()
                .saturating_sub(usize::try_from(tail).unwrap_or(usize::MAX)),
            None => 0,
        };
        let since = self.since(now);
        lines[skip..]
            .iter()
            .filter(|line| since.is_none_or(|since| line.time >= since))
            .cloned()
            .collect()
    }

    /// One line as it is sent: with its time when asked, and its newline.
    pub fn render(&self, line: &LogLine) -> String {
        if self.timestamps {
            format!("{} {}\n", line.timestamp(), line.text)
        } else {
            format!("{}\n", line.text)
        }
    }

    /// The response body for a snapshot of `lines` read at `now`: the
    /// selected lines rendered, cut to `limit_bytes` (which may cut a
    /// line, or a character, as the kubelet's byte limit does).
    pub fn apply(&self, lines: &[LogLine], now: SystemTime) -> Vec<u8> {
        let mut body = Vec::new();
        let mut limit = Limit::new(self.limit_bytes);
        for line in self.select(lines, now) {
            if !limit.take(&self.render(&line), &mut body) {
                break;
            }
        }
        body
    }
}

/// The bytes still allowed by `limitBytes`, across a whole response.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limit {
    left: Option<u64>,
}

impl Limit {
    pub(crate) fn new(limit_bytes: Option<u64>) -> Self {
        Limit { left: limit_bytes }
    }

    /// Appends what of `text` is still allowed to `out`; false once the
    /// limit is reached and nothing more may be sent.
    pub(crate) fn take(&mut self, text: &str, out: &mut Vec<u8>) -> bool {
        let bytes = text.as_bytes();
        match &mut self.left {
            None => {
                out.extend_from_slice(bytes);
                true
            }
            Some(left) => {
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                out.extend_from_slice(&bytes[..n]);
                *left -= n as u64;
                *left > 0
            }
        }
    }

    /// Whether nothing more may be sent.
    pub(crate) fn exhausted(&self) -> bool {
        self.left == Some(0)
    }
}
