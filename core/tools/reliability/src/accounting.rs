//! The clients' own accounting of a drill, and its verdict. Both clients
//! count every request their schedule called for: sent or not sent, and
//! every one sent by how it ended (2xx, 403, another status, a connection
//! error, a timeout). A drill reads them through a [`Ledger`], whose
//! windows follow one another without a gap, and whose last window ends
//! only once the clients' request timeout (and a margin) has passed after
//! the last fault: a request that hangs during a fault and fails later is
//! counted in the drill that caused it.
//!
//! The verdict of a window: slow-cooker's requests all answered 2xx,
//! slow-cooker-evil's all answered exactly 403 (a 502, a timeout or a
//! connection error is no refusal), and slow-cooker sending at least
//! [`MIN_RATE_SHARE`] of its configured rate, so requests never sent are
//! not invisible.

use std::time::Duration;

use parking_lot::Mutex;
use strait_local_workloads::LoadTotals;
use tokio::time::Instant;

use crate::mesh::{ALLOWED_CLIENT, DENIED_CLIENT, DrillMesh};

/// Where a [`Ledger`] reads the clients' accounting: the running guide's
/// load generators ([`DrillMesh`]), or a stand-in in tests.
pub trait Clients: Sync {
    /// Both clients' totals now.
    fn traffic(&self) -> Traffic;
    /// The requests a second each is configured to send.
    fn rates(&self) -> (u64, u64);
    /// How long after a request was sent its ending is known.
    fn client_timeout(&self) -> Duration;
    /// Whether every request sent by `mark` has ended.
    fn ended_before(&self, mark: &Traffic) -> bool;
}

impl Clients for DrillMesh {
    fn traffic(&self) -> Traffic {
        DrillMesh::traffic(self)
    }
    fn rates(&self) -> (u64, u64) {
        DrillMesh::rates(self)
    }
    fn client_timeout(&self) -> Duration {
        DrillMesh::client_timeout(self)
    }
    fn ended_before(&self, mark: &Traffic) -> bool {
        DrillMesh::ended_before(self, mark)
    }
}

/// The share of its configured rate slow-cooker must send through every
/// window.
pub const MIN_RATE_SHARE: f64 = 0.95;
/// How long past the clients' request timeout a drill still watches, for
/// the last requests to be counted.
pub const MARGIN: Duration = Duration::from_secs(2);

/// Both clients' totals at one moment, or over a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// slow-cooker's, the client the guide's policy admits.
    pub allowed: LoadTotals,
    /// slow-cooker-evil's, the client it refuses.
    pub denied: LoadTotals,
}

impl Traffic {
    /// What happened between `earlier` and this.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            allowed: self.allowed.since(&earlier.allowed),
            denied: self.denied.since(&earlier.denied),
        }
    }

    /// Both windows together.
    pub fn plus(&self, other: &Traffic) -> Traffic {
        Traffic {
            allowed: self.allowed.plus(&other.allowed),
            denied: self.denied.plus(&other.denied),
        }
    }
}

/// What the refused client's answers must be in a window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    /// Exactly 403, every one: the guide's policy refusing it.
    Refused,
    /// 403 or 2xx: a plugin that admits it by its own rule decides (the
    /// test plugin of the plugins drill); anything else still fails.
    RefusedOrAdmitted,
}

/// The clients' traffic over a stretch of a drill, with the rates they were
/// configured to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// What both clients counted.
    pub traffic: Traffic,
    /// How long the window lasted.
    pub took: Duration,
    /// slow-cooker's configured requests a second.
    pub allowed_rate: u64,
    /// slow-cooker-evil's configured requests a second.
    pub denied_rate: u64,
}

impl Window {
    /// This window followed by `next`.
    pub fn plus(&self, next: &Window) -> Window {
        Window {
            traffic: self.traffic.plus(&next.traffic),
            took: self.took + next.took,
            allowed_rate: self.allowed_rate.max(next.allowed_rate),
            denied_rate: self.denied_rate.max(next.denied_rate),
        }
    }

    /// slow-cooker's requests answered anything but 2xx, or not at all.
    pub fn allowed_failed(&self) -> u64 {
        let a = &self.traffic.allowed;
        a.forbidden + a.other()
    }

    /// slow-cooker-evil's requests answered 2xx: breaches of the policy.
    pub fn denied_admitted(&self) -> u64 {
        self.traffic.denied.ok
    }

    /// slow-cooker-evil's requests `rule` does not accept.
    pub fn denied_wrong(&self, rule: Denied) -> u64 {
        let d = &self.traffic.denied;
        match rule {
            Denied::Refused => d.ok + d.other(),
            Denied::RefusedOrAdmitted => d.other(),
        }
    }

    /// slow-cooker's requests sent a second over the window.
    pub fn allowed_sent_rate(&self) -> f64 {
        rate(self.traffic.allowed.sent, self.took)
    }

    /// Whether slow-cooker sent at least [`MIN_RATE_SHARE`] of its rate
    /// over the window, give or take the one request a window's edges can
    /// cut off.
    pub fn rate_kept(&self) -> bool {
        let due = self.allowed_rate as f64 * self.took.as_secs_f64();
        self.traffic.allowed.sent as f64 + 1.0 >= MIN_RATE_SHARE * due
    }

    /// The guide's policy held and nothing was lost: every allowed request
    /// answered 2xx, every denied one 403, at the rate.
    pub fn ok(&self) -> bool {
        self.ok_with(Denied::Refused)
    }

    /// Nothing lost, with the refused client held to `rule`.
    pub fn ok_with(&self, rule: Denied) -> bool {
        self.allowed_failed() == 0 && self.denied_wrong(rule) == 0 && self.rate_kept()
    }

    /// Both clients were served as the guide's policy says: [`Window::ok`]
    /// with answers from both.
    pub fn guide_decisions(&self) -> bool {
        self.ok() && self.traffic.allowed.ok > 0 && self.traffic.denied.forbidden > 0
    }

    /// What was lost, or `nothing`.
    pub fn lost(&self) -> String {
        self.lost_with(Denied::Refused)
    }

    /// What was lost with the refused client held to `rule`, or `nothing`:
    /// failed allowed requests, denied ones not answered as `rule` says,
    /// requests never sent, and slow-cooker's rate when it fell short.
    pub fn lost_with(&self, rule: Denied) -> String {
        let a = &self.traffic.allowed;
        let d = &self.traffic.denied;
        let mut parts = Vec::new();
        if self.allowed_failed() > 0 {
            parts.push(format!(
                "{} allowed requests failed ({} 403, {})",
                self.allowed_failed(),
                a.forbidden,
                other(a)
            ));
        }
        if rule == Denied::Refused && d.ok > 0 {
            parts.push(format!("{} denied requests admitted (2xx)", d.ok));
        }
        if d.other() > 0 {
            parts.push(format!(
                "{} denied requests not refused with 403 ({})",
                d.other(),
                other(d)
            ));
        }
        if a.not_sent > 0 {
            parts.push(format!("{} allowed requests not sent", a.not_sent));
        }
        if d.not_sent > 0 {
            parts.push(format!("{} denied requests not sent", d.not_sent));
        }
        if !self.rate_kept() {
            parts.push(format!(
                "slow-cooker sent {:.0} requests a second, under {:.0}% of its {}",
                self.allowed_sent_rate(),
                MIN_RATE_SHARE * 100.0,
                self.allowed_rate
            ));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join("; ")
        }
    }

    /// Each client's count over the window: sent (and the rate), 2xx,
    /// 403, other, not sent.
    pub fn counts(&self) -> String {
        format!(
            "{}; {}; over {:.1}s",
            client(
                ALLOWED_CLIENT,
                &self.traffic.allowed,
                self.allowed_rate,
                self.took
            ),
            client(
                DENIED_CLIENT,
                &self.traffic.denied,
                self.denied_rate,
                self.took
            ),
            self.took.as_secs_f64()
        )
    }
}

fn rate(count: u64, took: Duration) -> f64 {
    if took.is_zero() {
        0.0
    } else {
        count as f64 / took.as_secs_f64()
    }
}

/// `3 other (1 status, 1 connection error, 1 timeout)` or `0 other`.
fn other(totals: &LoadTotals) -> String {
    if totals.other() == 0 {
        return "0 other".to_string();
    }
    format!(
        "{} other: {} other status, {} connection errors, {} timeouts",
        totals.other(),
        totals.other_status,
        totals.connection_errors,
        totals.timeouts
    )
}

fn client(name: &str, totals: &LoadTotals, configured: u64, took: Duration) -> String {
    let mut text = format!("{name} {} sent", totals.sent);
    if configured > 0 && !took.is_zero() {
        text.push_str(&format!(
            " ({:.0}/s of {configured}/s)",
            rate(totals.sent, took)
        ));
    }
    text.push_str(&format!(
        ", {} 2xx, {} 403, {}, {} not sent",
        totals.ok,
        totals.forbidden,
        other(totals),
        totals.not_sent
    ));
    text
}

/// A drill's windows, one after another from when it was opened: each
/// closed window starts where the last one ended, so no request is left
/// between two rows.
pub struct Ledger<'a> {
    mesh: &'a dyn Clients,
    last: Mutex<(Traffic, Instant)>,
}

impl<'a> Ledger<'a> {
    /// Starts counting now.
    pub fn open(mesh: &'a dyn Clients) -> Ledger<'a> {
        Ledger {
            mesh,
            last: Mutex::new((mesh.traffic(), Instant::now())),
        }
    }

    /// Ends the current window now and starts the next.
    pub fn close(&self) -> Window {
        let now = self.mesh.traffic();
        let at = Instant::now();
        let mut last = self.last.lock();
        let (before, since) = std::mem::replace(&mut *last, (now, at));
        let (allowed_rate, denied_rate) = self.mesh.rates();
        Window {
            traffic: now.since(&before),
            took: at.saturating_duration_since(since),
            allowed_rate,
            denied_rate,
        }
    }

    /// Waits until every request sent so far has ended (answered, failed
    /// or timed out; never longer than the request timeout and
    /// [`MARGIN`]), then ends the window: whatever a fault did to the
    /// requests sent during it is in this window.
    pub async fn close_drained(&self) -> Window {
        self.drain().await;
        self.close()
    }

    /// Ends the drill's last window: no sooner than the clients' request
    /// timeout and [`MARGIN`] after `last_fault` ended, and once every
    /// request sent by then has ended.
    pub async fn close_after(&self, last_fault: Instant) -> Window {
        tokio::time::sleep_until(last_fault + self.mesh.client_timeout() + MARGIN).await;
        self.close_drained().await
    }

    async fn drain(&self) {
        let mark = self.mesh.traffic();
        let patience = self.mesh.client_timeout() + MARGIN;
        let drained = crate::poll::until(patience, Duration::from_millis(20), || {
            self.mesh.ended_before(&mark).then_some(())
        })
        .await;
        if drained.is_none() {
            tracing::warn!("requests still in flight {patience:?} after the window's end");
        }
    }
}

#[cfg(test)]
mod tests;
