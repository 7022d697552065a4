//! What each container of a Pod prints, kept as a kubelet keeps container
//! logs, for `GET /api/v1/namespaces/{ns}/pods/{name}/log`.
//!
//! A real kubelet writes a container's output to a file and reads it back
//! for the API server; `strait local` has no files, so each container gets
//! a bounded in-memory buffer instead: lines with the time they were
//! written, at most [`MAX_LINES`] lines and [`MAX_BYTES`] bytes of text per
//! container (the oldest lines go first, as log rotation drops old files),
//! and no line longer than [`MAX_LINE_BYTES`]. Nothing a Pod prints can
//! grow memory past that.
//!
//! Followers (`follow=true`) hold only a position in the buffer and wake on
//! a [`tokio::sync::watch`] counter, so a slow reader costs nothing while it
//! waits and skips what was dropped meanwhile rather than holding it. A
//! Pod's logs live as long as the Pod: when the kubelet stops it, its
//! followers end, and a new Pod (after a rollout) starts with empty logs.

mod options;
mod pod;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use futures::Stream;
use parking_lot::{Mutex, MutexGuard};
use tokio::sync::watch;

pub use options::LogOptions;
pub use pod::{LogError, PodLog, PodLogs};

/// Lines kept per container: enough for a few hours of slow_cooker's
/// reports at its default interval.
pub const MAX_LINES: usize = 2000;
/// Bytes of text kept per container, what a kubelet's default rotation
/// (10 MiB files) keeps an order of magnitude more of; in memory, less.
pub const MAX_BYTES: usize = 1024 * 1024;
/// The longest line kept; longer ones are cut, as the kubelet splits lines
/// longer than 16 KiB into partial ones.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// One line a container printed, without its newline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// When it was written.
    pub time: SystemTime,
    /// What was written.
    pub text: String,
}

impl LogLine {
    /// The line's time as the kubelet writes it with `timestamps=true`:
    /// RFC 3339 in UTC with nine fractional digits,
    /// `2026-12-05T08:52:12.123456789Z`.
    pub fn timestamp(&self) -> String {
        rfc3339_nanos(self.time)
    }
}

/// `time` as RFC 3339 in UTC with nanoseconds (Go's `RFC3339NanoFixed`).
pub fn rfc3339_nanos(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = strait_duration::timestamp::format(since.as_secs());
    let whole = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{whole}.{:09}Z", since.subsec_nanos())
}

/// `time` as RFC 3339 in UTC to the second, as Go's `time.RFC3339` prints
/// a UTC time: what the built-in programs stamp their own lines with.
pub fn rfc3339_seconds(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    strait_duration::timestamp::format(since.as_secs())
}

/// How much one container's log may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Caps {
    pub(crate) lines: usize,
    pub(crate) bytes: usize,
    pub(crate) line_bytes: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            lines: MAX_LINES,
            bytes: MAX_BYTES,
            line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// The lines of one container, numbered from its first: a line's number
/// never changes, so a follower's position survives older lines dropping.
#[derive(Debug)]
struct Buffer {
    lines: VecDeque<LogLine>,
    /// The number of the oldest line kept.
    first: u64,
    bytes: usize,
    closed: bool,
    caps: Caps,
}

impl Buffer {
    /// The number the next line written will have.
    fn end(&self) -> u64 {
        self.first + self.lines.len() as u64
    }

    fn push(&mut self, line: LogLine) {
        self.bytes += line.text.len();
        self.lines.push_back(line);
        while self.lines.len() > self.caps.lines || self.bytes > self.caps.bytes {
            let Some(old) = self.lines.pop_front() else {
                break;
            };
            self.bytes -= old.text.len();
            self.first += 1;
        }
    }

    /// Line `at`, or the oldest kept when `at` was dropped; with the
    /// number after it.
    fn line_from(&self, at: u64) -> Option<(LogLine, u64)> {
        let at = at.max(self.first);
        let index = usize::try_from(at - self.first).ok()?;
        self.lines.get(index).map(|line| (line.clone(), at + 1))
    }
}

#[derive(Debug)]
struct Shared {
    buffer: Mutex<Buffer>,
    /// Bumped on every write and on close: what followers wait on.
    changed: watch::Sender<u64>,
}

/// One container's log: written by the program the container runs, read
/// by the API server. Clones share the same lines.
#[derive(Clone, Debug)]
pub struct ContainerLog {
    shared: Arc<Shared>,
}

impl Default for ContainerLog {
    fn default() -> Self {
        ContainerLog::with_caps(Caps::default())
    }
}

impl ContainerLog {
    pub(crate) fn with_caps(caps: Caps) -> Self {
        let (changed, _) = watch::channel(0);
        ContainerLog {
            shared: Arc::new(Shared {
                buffer: Mutex::new(Buffer {
                    lines: VecDeque::new(),
                    first: 0,
                    bytes: 0,
                    closed: false,
                    caps,
                }),
                changed,
            }),
        }
    }

    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.shared.buffer.lock()
    }

    /// Writes one line (a newline in `text` makes several), stamped now.
    pub(crate) fn write(&self, text: &str) {
        self.write_at(SystemTime::now(), text);
    }

    /// Writes `text` as if printed at `time`; nothing once closed, as a
    /// stopped container prints no more.
    pub(crate) fn write_at(&self, time: SystemTime, text: &str) {
        {
            let mut buffer = self.buffer();
            if buffer.closed {
                return;
            }
            let cap = buffer.caps.line_bytes;
            for line in text.strip_suffix('\n').unwrap_or(text).split('\n') {
                buffer.push(LogLine {
                    time,
                    text: cut(line, cap).to_string(),
                });
            }
        }
        self.shared.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Marks the container stopped: followers end once they have read
    /// what is left.
    pub(crate) fn close(&self) {
        self.buffer().closed = true;
        self.shared.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Whether the container has stopped.
    pub fn is_closed(&self) -> bool {
        self.buffer().closed
    }

    /// Every line kept now, oldest first.
    pub fn lines(&self) -> Vec<LogLine> {
        self.buffer().lines.iter().cloned().collect()
    }

    /// Every line kept now and the number the next line will have, taken
    /// together so a follower starting there misses nothing and repeats
    /// nothing.
    fn snapshot(&self) -> (Vec<LogLine>, u64) {
        let buffer = self.buffer();
        (buffer.lines.iter().cloned().collect(), buffer.end())
    }

    /// A follower of the lines written from now on.
    pub fn follow(&self) -> LogFollow {
        let end = self.buffer().end();
        self.follow_from(end)
    }

    fn follow_from(&self, next: u64) -> LogFollow {
        LogFollow {
            log: self.clone(),
            changed: self.shared.changed.subscribe(),
            next,
        }
    }
}

/// `text` cut to at most `max` bytes, at a character boundary.
fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Reads a container's lines as they are written, until it stops.
#[derive(Debug)]
pub struct LogFollow {
    log: ContainerLog,
    changed: watch::Receiver<u64>,
    next: u64,
}

impl LogFollow {
    /// The next line, waiting for it; `None` once the container has
    /// stopped and every line was read. A follower that fell behind by
    /// more than the buffer holds goes on from the oldest line kept.
    pub async fn next_line(&mut self) -> Option<LogLine> {
        loop {
            // Marked seen before looking, so a write after the look wakes
            // the wait below.
            self.changed.borrow_and_update();
            {
                let buffer = self.log.buffer();
                if let Some((line, next)) = buffer.line_from(self.next) {
                    self.next = next;
                    return Some(line);
                }
                if buffer.closed {
                    return None;
                }
            }
            if self.changed.changed().await.is_err() {
                return None;
            }
        }
    }

    /// The lines as a stream, ending when the container stops.
    pub fn into_stream(self) -> impl Stream<Item = LogLine> + Send + 'static {
        futures::stream::unfold(self, |mut follow| async move {
            follow.next_line().await.map(|line| (line, follow))
        })
    }
}

#[cfg(test)]
mod tests;
