//! The soak: the guide's traffic at a steady rate for minutes while the
//! authz plugin is pushed every few seconds, the Link flaps and the
//! controllers are restarted in turn. Nothing may be lost: no admitted
//! request fails and no refused one is admitted.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::faults::{self, Controller, MIRROR};
use crate::mesh::{DrillMesh, SERVER_CLUSTER, Traffic};
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

/// How long after a fault ends a failure is still put down to it.
const BLAME_WINDOW: Duration = Duration::from_secs(5);
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

/// Everything the fault loops and the sampler record.
#[derive(Default)]
struct Timeline {
    faults: Mutex<Vec<Done>>,
    /// Samples with a loss: when, and the loss.
    losses: Mutex<Vec<(Instant, Traffic)>>,
}

impl Timeline {
    fn record(&self, done: Done) {
        self.faults
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(done);
    }
}

/// Runs the soak on `mesh`; a row per kind of fault and one for the whole.
pub async fn soak(mesh: &DrillMesh, options: &SoakOptions) -> Vec<Row> {
    let timeline = Timeline::default();
    let mirror_uid = faults::client_service_uid(mesh, MIRROR).await;
    let before = mesh.traffic();
    let started = Instant::now();
    let deadline = started + options.duration;
    tokio::join!(
        pushes(mesh, options, deadline, &timeline),
        flaps(mesh, options, deadline, &timeline),
        restarts(mesh, options, deadline, &timeline),
        sample(mesh, deadline + BLAME_WINDOW, &timeline),
    );
    let total = mesh.traffic().since(&before);
    let elapsed = started.elapsed();
    let faults = timeline
        .faults
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let losses = timeline
        .losses
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
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
        rows.push(kind_row(kind, tried, &faults, &losses));
    }
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
    let rate = (total.allowed_ok + total.allowed_failed) as f64 / elapsed.as_secs_f64();
    let mut happened = format!(
        "{}; {rate:.0} allowed requests a second; mirror {MIRROR} {}; last plugin status: {}",
        total.served(),
        match (&mirror_now, mirror_kept) {
            (_, true) => "kept (same uid throughout)",
            (Some(_), false) => "RE-CREATED (its uid changed)",
            (None, false) => "MISSING",
        },
        status.unwrap_or_else(|| "none".into())
    );
    if let Some(why) = mesh
        .last_allowed_failure()
        .filter(|_| total.allowed_failed > 0)
    {
        happened.push_str(&format!("; last failure: {why}"));
    }
    rows.push(Row::new(
        "soak",
        format!(
            "the guide's traffic for {} under all of the above",
            seconds(options.duration)
        ),
        happened,
        total.lost(),
        total.lossless() && mirror_kept && plugin_current && total.allowed_ok > 0,
    ));
    rows
}

fn kind_row(kind: Kind, tried: String, faults: &[Done], losses: &[(Instant, Traffic)]) -> Row {
    let done: Vec<&Done> = faults.iter().filter(|f| f.kind == kind).collect();
    let failed: Vec<&String> = done
        .iter()
        .filter_map(|f| f.outcome.as_ref().err())
        .collect();
    let mut lost = Traffic::default();
    for (at, loss) in losses {
        let blamed = done
            .iter()
            .any(|f| f.started <= *at && *at <= f.ended + BLAME_WINDOW);
        if blamed {
            lost.allowed_failed += loss.allowed_failed;
            lost.denied_admitted += loss.denied_admitted;
        }
    }
    let mut happened = format!("{} done", done.len());
    if kind == Kind::Push {
        let mut latencies: Vec<&String> = Vec::new();
        for f in &done {
            if let Ok(note) = &f.outcome {
                latencies.push(note);
            }
        }
        happened = format!(
            "{} pushed, {} reported active by the control plane",
            done.len(),
            latencies.len()
        );
    }
    if let Some(first) = failed.first() {
        happened.push_str(&format!("; {} went wrong, first: {first}", failed.len()));
    }
    let lost_text = if lost.lossless() {
        "nothing".to_string()
    } else {
        format!("{} (within {} of one)", lost.lost(), seconds(BLAME_WINDOW))
    };
    Row::new(
        "soak",
        tried,
        happened,
        lost_text,
        !done.is_empty() && failed.is_empty() && lost.lossless(),
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
            faults::wait_active(mesh, SERVER_CLUSTER, &version, Duration::from_secs(10)).await?;
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

/// Samples the clients' totals until `until`, keeping the samples that
/// show a loss.
async fn sample(mesh: &DrillMesh, until: Instant, timeline: &Timeline) {
    let mut last = mesh.traffic();
    while Instant::now() < until {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let now = mesh.traffic();
        let delta = now.since(&last);
        last = now;
        if !delta.lossless() {
            timeline
                .losses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((Instant::now(), delta));
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
