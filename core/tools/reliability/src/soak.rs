//! The soak: the guide's traffic at a steady rate for minutes while the
//! authz plugin is pushed every few seconds, the Link flaps and the
//! controllers are restarted in turn. Nothing may be lost: no admitted
//! request fails and no refused one is admitted.

use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use crate::accounting::{Denied, Ledger, MARGIN, Window};
use crate::faults::{self, Controller, MIRROR};
use crate::mesh::{DrillMesh, SERVER_CLUSTER};
use crate::report::Row;

/// How hard and how long the soak pushes.
#[derive(Clone, Debug)]
pub struct SoakOptions {
    /// How long the faults go on.
    pub duration: Duration,
    /// How often the authz plugin is pushed.
    pub push_every: Duration,
    /// How often the Link flaps (alternately re-created and cut off).
    pub flap_every: Duration,
    /// How often a controller is restarted (each in turn).
    pub restart_every: Duration,
    /// How long a restarted controller is down.
    pub restart_down: Duration,
    /// How long a flapping Link is gone before it is re-created.
    pub flap_gap: Duration,
    /// How long a flapping Link's remote API is cut off.
    pub flap_cut: Duration,
}

impl SoakOptions {
    /// The soak: faults every few seconds over `duration`.
    pub fn over(duration: Duration) -> SoakOptions {
        SoakOptions {
            duration,
            push_every: Duration::from_secs(5),
            flap_every: Duration::from_secs(20),
            restart_every: Duration::from_secs(30),
            restart_down: Duration::from_secs(5),
            flap_gap: Duration::from_secs(2),
            flap_cut: Duration::from_secs(10),
        }
    }
}

/// How long a pushed plugin may take to be active in bb's proxy.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the clients' totals are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);

/// The kinds of fault, as the table names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Push,
    Flap,
    Restart,
}

/// One fault done: when, what, and how it went.
struct Done {
    kind: Kind,
    started: Instant,
    ended: Instant,
    outcome: Result<String, String>,
}

/// One sample of the clients' totals: the window from the last sample.
#[derive(Clone, Copy, Debug)]
struct Sample {
    ended: Instant,
    window: Window,
}

/// Everything the fault loops and the sampler record.
#[derive(Default)]
struct Timeline {
    faults: Mutex<Vec<Done>>,
    /// When the last fault ended, once every fault loop is done.
    faults_ended: Mutex<Option<Instant>>,
    /// Every sample, one after another without a gap.
    samples: Mutex<Vec<Sample>>,
}

impl Timeline {
    fn record(&self, done: Done) {
        self.faults.lock().push(done);
    }
}

/// Runs the soak on `mesh`; a row per kind of fault and one for the whole.
pub async fn soak(mesh: &DrillMesh, options: &SoakOptions) -> Vec<Row> {
    let timeline = Timeline::default();
    let mirror_uid = faults::client_service_uid(mesh, MIRROR).await;
    let started = Instant::now();
    let deadline = started + options.duration;
    let blame = mesh.client_timeout() + MARGIN;
    tokio::join!(
        async {
            tokio::join!(
                pushes(mesh, options, deadline, &timeline),
                flaps(mesh, options, deadline, &timeline),
                restarts(mesh, options, deadline, &timeline),
            );
            *timeline.faults_ended.lock() = Some(Instant::now());
        },
        sample(mesh, &timeline),
    );
    let faults = timeline.faults.into_inner();
    let samples = timeline.samples.into_inner();
    let mut rows = Vec::new();
    for (kind, tried) in [
        (
            Kind::Push,
            format!(
                "authz plugin pushed to east every {}",
                seconds(options.push_every)
            ),
        ),
        (
            Kind::Flap,
            format!(
                "Link flapped every {}: deleted and re-created {} later, or east's API cut for {}",
                seconds(options.flap_every),
                seconds(options.flap_gap),
                seconds(options.flap_cut)
            ),
        ),
        (
            Kind::Restart,
            format!(
                "a controller restarted every {} (in turn: {}), down {} each",
                seconds(options.restart_every),
                Controller::ALL
                    .iter()
                    .map(|c| c.describe())
                    .collect::<Vec<_>>()
                    .join("; "),
                seconds(options.restart_down)
            ),
        ),
    ] {
        rows.push(kind_row(kind, tried, &faults, &samples, blame));
    }
    let total = samples.iter().map(|s| s.window).reduce(|a, b| a.plus(&b));
    let Some(total) = total else {
        rows.push(Row::new(
            "soak",
            "the guide's traffic",
            "no sample taken",
            "-",
            false,
        ));
        return rows;
    };
    let mirror_now = faults::client_service_uid(mesh, MIRROR).await;
    let mirror_kept = mirror_uid.is_some() && mirror_now == mirror_uid;
    let status = faults::authz_status(mesh, SERVER_CLUSTER).await;
    let last_push = faults
        .iter()
        .filter(|f| f.kind == Kind::Push && f.outcome.is_ok())
        .max_by_key(|f| f.started)
        .and_then(|f| f.outcome.as_ref().ok().cloned());
    let plugin_current = match (&last_push, &status) {
        (Some(version), Some(status)) => status.starts_with(&format!("active {version} ")),
        (None, _) => true,
        _ => false,
    };
    let mut happened = format!(
        "{:.0} allowed requests a second over {:.0}s (until {} after the last fault); mirror {MIRROR} {}; last plugin status: {}",
        total.allowed_sent_rate(),
        total.took.as_secs_f64(),
        seconds(blame),
        match (&mirror_now, mirror_kept) {
            (_, true) => "kept (same uid throughout)",
            (Some(_), false) => "RE-CREATED (its uid changed)",
            (None, false) => "MISSING",
        },
        status.unwrap_or_else(|| "none".into())
    );
    let why = mesh.why(&total);
    if !why.is_empty() {
        happened.push_str(&format!("; {why}"));
    }
    rows.push(Row::judged(
        "soak",
        format!(
            "the guide's traffic for {} under all of the above",
            seconds(options.duration)
        ),
        happened,
        "nothing",
        mirror_kept && plugin_current && total.traffic.allowed.ok > 0,
        &total,
        Denied::Refused,
    ));
    rows
}

/// The row of one kind of fault: its faults, and the samples within
/// `blame` of one of them (a request fails at the latest its timeout
/// after it was sent), all of which must be lossless.
fn kind_row(
    kind: Kind,
    tried: String,
    faults: &[Done],
    samples: &[Sample],
    blame: Duration,
) -> Row {
    let done: Vec<&Done> = faults.iter().filter(|f| f.kind == kind).collect();
    let failed: Vec<&String> = done
        .iter()
        .filter_map(|f| f.outcome.as_ref().err())
        .collect();
    let window = samples
        .iter()
        .filter(|s| {
            let started = s.ended.checked_sub(s.window.took).unwrap_or(s.ended);
            done.iter()
                .any(|f| started <= f.ended + blame && f.started <= s.ended)
        })
        .map(|s| s.window)
        .reduce(|a, b| a.plus(&b))
        .unwrap_or(Window {
            traffic: Default::default(),
            took: Duration::ZERO,
            allowed_rate: 0,
            denied_rate: 0,
        });
    let mut happened = match kind {
        Kind::Push => format!(
            "{} pushed, {} active in bb's proxy",
            done.len(),
            done.len() - failed.len()
        ),
        _ => format!("{} done", done.len()),
    };
    if let Some(first) = failed.first() {
        happened.push_str(&format!("; {} went wrong, first: {first}", failed.len()));
    }
    happened.push_str(&format!(
        "; traffic counted from each start to {} after each end",
        seconds(blame)
    ));
    Row::judged(
        "soak",
        tried,
        happened,
        "nothing",
        !done.is_empty() && failed.is_empty(),
        &window,
        Denied::Refused,
    )
}

async fn pushes(mesh: &DrillMesh, options: &SoakOptions, deadline: Instant, timeline: &Timeline) {
    let mut number = 0u32;
    while Instant::now() + options.push_every <= deadline {
        tokio::time::sleep(options.push_every).await;
        number += 1;
        let version = format!("soak-{number}");
        let started = Instant::now();
        let outcome = async {
            let plugin = faults::default_authz_plugin(&version);
            faults::push_authz(mesh, SERVER_CLUSTER, &plugin, &version).await?;
            faults::wait_active(mesh, SERVER_CLUSTER, &version, DELIVERY_TIMEOUT).await?;
            // Delivered once bb's proxy decides with it, not when the
            // control plane took it.
            faults::wait_active_in_bb(mesh, &version, DELIVERY_TIMEOUT).await?;
            Ok(version.clone())
        }
        .await;
        timeline.record(Done {
            kind: Kind::Push,
            started,
            ended: Instant::now(),
            outcome,
        });
    }
}

async fn flaps(mesh: &DrillMesh, options: &SoakOptions, deadline: Instant, timeline: &Timeline) {
    let mut number = 0u32;
    while Instant::now() + options.flap_every <= deadline {
        tokio::time::sleep(options.flap_every).await;
        number += 1;
        let started = Instant::now();
        let outcome = if number % 2 == 1 {
            faults::recreate_link(mesh, options.flap_gap)
                .await
                .map(|()| "re-created".to_string())
        } else {
            faults::cut_remote_api(mesh, options.flap_cut)
                .await
                .map(|()| "cut".to_string())
        };
        timeline.record(Done {
            kind: Kind::Flap,
            started,
            ended: Instant::now(),
            outcome,
        });
    }
}

async fn restarts(mesh: &DrillMesh, options: &SoakOptions, deadline: Instant, timeline: &Timeline) {
    let mut turn = 0usize;
    while Instant::now() + options.restart_every <= deadline {
        tokio::time::sleep(options.restart_every).await;
        let controller = Controller::ALL[turn % Controller::ALL.len()];
        turn += 1;
        let started = Instant::now();
        let outcome = controller
            .restart(mesh, options.restart_down)
            .await
            .map(|()| controller.describe().to_string());
        timeline.record(Done {
            kind: Kind::Restart,
            started,
            ended: Instant::now(),
            outcome,
        });
    }
}

/// Samples the clients' totals, each sample the window since the last,
/// until the clients' request timeout and a margin have passed since the
/// last fault ended; the last sample waits for every request sent by then.
async fn sample(mesh: &DrillMesh, timeline: &Timeline) {
    let ledger = Ledger::open(mesh);
    let tail = mesh.client_timeout() + MARGIN;
    loop {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let ended = *timeline.faults_ended.lock();
        let last = ended.is_some_and(|at| Instant::now() >= at + tail);
        let window = if last {
            ledger.close_drained().await
        } else {
            ledger.close()
        };
        timeline.samples.lock().push(Sample {
            ended: Instant::now(),
            window,
        });
        if last {
            return;
        }
    }
}

/// `5s`, `2m`, `1m30s`.
pub fn seconds(duration: Duration) -> String {
    let total = duration.as_secs();
    match (total / 60, total % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests;
