//! The plugins drill: bad authz plugins pushed into the server's cluster
//! while the guide's traffic runs. Each goes first through the check
//! `strait plugin push` runs before it writes anything; those the check
//! refuses are then also written straight into the plugins ConfigMap, as an
//! operator with kubectl could, so the control plane's own refusal is
//! seen: its status annotation (on the status ConfigMap beside the plugins
//! ConfigMap) and Warning Event, with the last good plugin still deciding. Plugins that pass (a 10 MB one, and the test plugin that
//! loops, exhausts memory or traps on chosen paths) are distributed, and
//! requests on those paths must be denied quickly while slow-cooker loses
//! nothing. The default plugin is pushed back at the end.

mod wire;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use strait_default_plugins::{AUTHZ_DEFAULT, EXPORT_DEFAULT, fixtures};
use strait_plugin_host::{HostConfig, PluginHost, PluginKind, PluginMetrics, PluginSource};
use strait_store::MemoryStore;

use crate::mesh::{ALLOWED_CLIENT, CLIENT_CLUSTER, DENIED_CLIENT, NAMESPACE, SERVER_CLUSTER};
use crate::{DrillMesh, Row, Traffic};
use wire::Answer;

/// The drill's name in the report.
const DRILL: &str = "plugins";
/// Where the guide's clients send: bb in east, through the mirror.
const AUTHORITY: &str = "bb-target:8080";
/// How long the control plane may take to report a plugin.
const STATUS_TIMEOUT: Duration = Duration::from_secs(30);
/// How long after the status its Event may follow.
const EVENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the proxies may take to swap a new plugin in.
const SWAP_TIMEOUT: Duration = Duration::from_secs(30);
/// Traffic watched after each change, to see the mesh settled on it.
const SETTLE: Duration = Duration::from_secs(2);
/// Requests sent on each misbehaving path.
const CALLS: usize = 5;
/// The longest a request on a misbehaving path may take to be denied.
const CALL_BOUND: Duration = Duration::from_secs(2);
/// The bytes pushed as garbage (the end-to-end test's).
const GARBAGE: &[u8] = b"\x13\x37 not a plugin";
/// The size of the large component's padding.
const LARGE_PADDING: usize = 10 << 20;
/// The version label of the last good plugin the bad ones must not displace.
const BASELINE: &str = "drill-baseline";
/// The version label of the faulty test plugin.
const FAULTY: &str = "drill-faulty";
/// The outcomes of a failed plugin call, as the proxies' metrics label them.
const FAILED_OUTCOMES: [&str; 4] = ["timeout", "memory_limit", "trap", "error"];

/// Pushes the bad plugins into east while the guide's traffic runs; one
/// row per case, then one for the default plugin pushed back.
pub async fn plugins(mesh: &DrillMesh) -> Vec<Row> {
    let drill = match Drill::new(mesh) {
        Ok(drill) => drill,
        Err(why) => {
            return vec![Row::new(
                DRILL,
                "setting up the plugins drill",
                why,
                "the drill",
                false,
            )];
        }
    };
    let mut rows = vec![drill.baseline().await];
    rows.push(
        drill
            .refused_by_push(
                "garbage bytes pushed as the authz plugin",
                "garbage.wasm",
                GARBAGE,
                "is not a Wasm component",
            )
            .await,
    );
    rows.push(
        drill
            .refused_past_push(
                "garbage bytes written straight into ConfigMap linkerd/strait-plugins key \
                 authz.wasm (past the push's check, as kubectl could)",
                GARBAGE,
                "is not a Wasm component",
            )
            .await,
    );
    rows.push(
        drill
            .refused_by_push(
                "the default export plugin pushed as the authz plugin (wrong world)",
                "export-as-authz.wasm",
                EXPORT_DEFAULT,
                "is not an authz plugin",
            )
            .await,
    );
    rows.push(
        drill
            .refused_past_push(
                "the default export plugin written straight into ConfigMap \
                 linkerd/strait-plugins key authz.wasm (wrong world, past the push's check)",
                EXPORT_DEFAULT,
                "is not an authz plugin",
            )
            .await,
    );
    rows.push(drill.large().await);
    match drill.faulty_active().await {
        Ok(active) => {
            // What stops each: the CPU deadline, the memory cap (or the
            // deadline, whichever the growth reaches first), the trap.
            for (tried, path, stopped_by) in [
                ("a runaway loop", "/loop", &["timeout"][..]),
                ("a memory bomb", "/grow", &["memory_limit", "timeout"][..]),
                ("a trap (a panic in the plugin)", "/trap", &["trap"][..]),
            ] {
                rows.push(drill.contained(tried, path, stopped_by, &active).await);
            }
        }
        Err(why) => rows.push(Row::new(
            DRILL,
            "the test plugin authz-faulty pushed (loops on /loop, exhausts memory on /grow, \
             traps on /trap)",
            why,
            "the loop, memory bomb and trap cases",
            false,
        )),
    }
    rows.push(drill.restore().await);
    rows
}

/// What the drill works with.
struct Drill<'a> {
    mesh: &'a DrillMesh,
    /// East's store, where the plugins ConfigMap lives.
    store: MemoryStore,
    /// Checks plugins as `strait plugin push` does before writing.
    host: PluginHost,
    /// Where the pushed files are written (removed with the mesh).
    files: PathBuf,
    /// slow-cooker's address: requests from there cross its proxy.
    allowed: IpAddr,
    /// slow-cooker-evil's address.
    denied: IpAddr,
    /// bb's proxy's admin address, for its plugin metrics.
    bb_admin: SocketAddr,
}

/// A plugin written and reported by the control plane.
struct Pushed {
    /// What the push's check printed.
    checked: String,
    /// The status annotation.
    status: String,
    /// The Event, as `<type> <reason>: <message>`.
    event: String,
}

impl<'a> Drill<'a> {
    fn new(mesh: &'a DrillMesh) -> Result<Drill<'a>, String> {
        let east = mesh.cluster(SERVER_CLUSTER)?;
        let west = mesh.cluster(CLIENT_CLUSTER)?;
        let address_of = |deployment: &str| {
            west.pods()
                .into_iter()
                .find(|p| {
                    p.namespace == NAMESPACE
                        && p.deployment.as_deref() == Some(deployment)
                        && p.meshed
                })
                .and_then(|p| p.ip)
                .ok_or_else(|| {
                    format!("no meshed {deployment} pod with an address in {CLIENT_CLUSTER}")
                })
        };
        let bb_admin = east
            .pods()
            .into_iter()
            .find(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some("bb"))
            .and_then(|p| p.proxy_admin)
            .ok_or_else(|| format!("no bb pod with a proxy in {SERVER_CLUSTER}"))?;
        let host = PluginHost::new(HostConfig::default(), PluginMetrics::new())
            .map_err(|e| format!("the plugin host: {e}"))?;
        let files = mesh
            .dir()
            .parent()
            .map_or_else(|| mesh.dir().join("plugins"), |root| root.join("plugins"));
        std::fs::create_dir_all(&files).map_err(|e| format!("{}: {e}", files.display()))?;
        Ok(Drill {
            mesh,
            store: east.store().clone(),
            host,
            files,
            allowed: address_of(ALLOWED_CLIENT)?,
            denied: address_of(DENIED_CLIENT)?,
            bb_admin,
        })
    }

    /// Writes `bytes` to a file and checks it as `strait plugin push` does
    /// before writing anything: `ok authz <digest>`, or the push's error.
    async fn check(&self, name: &str, bytes: &[u8]) -> Result<String, String> {
        let path = self.files.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let host = self.host.clone();
        // Compiling a component takes a while: off the runtime's threads,
        // which run the mesh's proxies.
        let origin = format!("file {name}");
        tokio::task::spawn_blocking(move || {
            let mut plugin = PluginSource::File(&path).read()?;
            // As `strait plugin push --kind authz NAME` names it, run where
            // the file is.
            plugin.origin = origin;
            host.check(PluginKind::Authz, &plugin)
        })
        .await
        .map_err(|e| format!("the check did not finish: {e}"))?
        .map(|info| format!("ok authz {}", info.digest))
        .map_err(|error| format!("error: {error}; nothing was pushed"))
    }

    /// `strait plugin push --kind authz FILE --plugin-version VERSION`, then
    /// waits for the control plane to report the plugin active.
    async fn push(&self, name: &str, bytes: &[u8], version: &str) -> Result<Pushed, String> {
        let checked = self.check(name, bytes).await?;
        wire::push_write(&self.store, bytes, version).await?;
        let prefix = format!("active {version} ");
        let status = wire::wait_status(&self.store, STATUS_TIMEOUT, |s| s.starts_with(&prefix))
            .await
            .map_err(|last| {
                format!(
                    "{checked}, written; status {} still {last:?} after {STATUS_TIMEOUT:?}",
                    wire::status_annotation()
                )
            })?;
        let event = self.event(&status).await;
        Ok(Pushed {
            checked,
            status,
            event,
        })
    }

    async fn event(&self, status: &str) -> String {
        match wire::wait_event(&self.store, status, EVENT_TIMEOUT).await {
            Some((type_, text)) => format!("{type_} {text}"),
            None => "no Event".to_string(),
        }
    }

    /// The default plugin pushed under a version of its own: the last good
    /// plugin every bad one below must leave in place.
    async fn baseline(&self) -> Row {
        let tried =
            format!("the default authz plugin pushed (version {BASELINE}): the last good plugin");
        let before = self.mesh.traffic();
        match self.push("default.wasm", AUTHZ_DEFAULT, BASELINE).await {
            Ok(pushed) => {
                tokio::time::sleep(SETTLE).await;
                let window = self.mesh.traffic().since(&before);
                let ok =
                    pushed.event.starts_with("Normal PluginActivated") && guide_decisions(&window);
                Row::new(
                    DRILL,
                    tried,
                    format!(
                        "push: `{}`; {}: `{}`; Event `{}`; {}",
                        pushed.checked,
                        wire::status_annotation(),
                        pushed.status,
                        pushed.event,
                        window.served()
                    ),
                    window.lost(),
                    ok,
                )
            }
            Err(why) => Row::new(
                DRILL,
                tried,
                why,
                self.mesh.traffic().since(&before).lost(),
                false,
            ),
        }
    }

    /// A plugin the push's check must refuse, with nothing written.
    async fn refused_by_push(&self, tried: &str, name: &str, bytes: &[u8], reason: &str) -> Row {
        let before = self.mesh.traffic();
        let stored = wire::stored_authz(&self.store);
        let result = self.check(name, bytes).await;
        let unchanged = wire::stored_authz(&self.store) == stored;
        let window = self.mesh.traffic().since(&before);
        let (happened, refused) = match result {
            Err(error) => (
                format!(
                    "refused by the push's check: `{error}`; ConfigMap {}",
                    if unchanged { "unchanged" } else { "CHANGED" }
                ),
                error.contains(reason),
            ),
            Ok(checked) => (format!("accepted by the push's check: `{checked}`"), false),
        };
        Row::new(
            DRILL,
            tried,
            happened,
            window.lost(),
            refused && unchanged && window.lossless(),
        )
    }

    /// A plugin written into the ConfigMap past the push: the control plane
    /// must refuse it, say so in the status and a Warning Event, and keep
    /// the baseline deciding as the guide's policy does.
    async fn refused_past_push(&self, tried: &str, bytes: &[u8], reason: &str) -> Row {
        let before = self.mesh.traffic();
        if let Err(why) = wire::operator_write(&self.store, bytes).await {
            return Row::new(DRILL, tried, why, "-", false);
        }
        let status = wire::wait_status(&self.store, STATUS_TIMEOUT, |s| {
            s.starts_with("rejected:") && s.contains(reason)
        })
        .await;
        let (status, reported) = match status {
            Ok(status) => (status, true),
            Err(last) => (last, false),
        };
        let event = self.event(&status).await;
        tokio::time::sleep(SETTLE).await;
        let window = self.mesh.traffic().since(&before);
        let kept = status.contains(&format!("still active: {BASELINE} "));
        let ok = reported
            && kept
            && event.starts_with("Warning PluginRejected")
            && guide_decisions(&window);
        Row::new(
            DRILL,
            tried,
            format!(
                "{}: `{status}`; Event `{event}`; {}",
                wire::status_annotation(),
                window.served()
            ),
            window.lost(),
            ok,
        )
    }

    /// A 10 MB component (the default plugin with a 10 MiB custom section):
    /// accepted, distributed, deciding as the default does.
    async fn large(&self) -> Row {
        let bytes = wire::padded(AUTHZ_DEFAULT, LARGE_PADDING);
        let version = "drill-10mb";
        let tried = format!(
            "a {} byte component (the default authz plugin plus a 10 MiB custom section) pushed",
            bytes.len()
        );
        let before = self.mesh.traffic();
        let pushed = match self.push("large.wasm", &bytes, version).await {
            Ok(pushed) => pushed,
            Err(why) => {
                return Row::new(
                    DRILL,
                    tried,
                    why,
                    self.mesh.traffic().since(&before).lost(),
                    false,
                );
            }
        };
        let swapped = self.wait_active_in_bb(version).await;
        tokio::time::sleep(SETTLE).await;
        let window = self.mesh.traffic().since(&before);
        let ok = pushed.event.starts_with("Normal PluginActivated")
            && swapped.is_ok()
            && guide_decisions(&window);
        Row::new(
            DRILL,
            tried,
            format!(
                "push: `{}`; {}: `{}`; Event `{}`; bb's proxy: {}; {}",
                pushed.checked,
                wire::status_annotation(),
                pushed.status,
                pushed.event,
                swapped.unwrap_or_else(|e| e),
                window.served()
            ),
            window.lost(),
            ok,
        )
    }

    /// Pushes the faulty test plugin and waits until bb's proxy decides
    /// with it (slow-cooker-evil's requests, which it admits, answered);
    /// returns what was reported.
    async fn faulty_active(&self) -> Result<String, String> {
        let bytes = std::fs::read(fixtures::AUTHZ_FAULTY).map_err(|e| {
            format!(
                "the test plugin authz-faulty ({}): {e}",
                fixtures::AUTHZ_FAULTY
            )
        })?;
        let pushed = self.push("authz-faulty.wasm", &bytes, FAULTY).await?;
        self.wait_active_in_bb(FAULTY).await?;
        let deadline = Instant::now() + SWAP_TIMEOUT;
        loop {
            let answer = wire::call_through_proxy(self.denied, AUTHORITY, "/", CALL_BOUND).await;
            if let Ok(answer) = &answer
                && answer.code == 200
            {
                return Ok(format!(
                    "push: `{}`; status `{}`; slow-cooker-evil's `GET /` now `{}`",
                    pushed.checked,
                    pushed.status,
                    answer.quote()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "status `{}`, but slow-cooker-evil's `GET /` still {answer:?} after \
                     {SWAP_TIMEOUT:?}",
                    pushed.status
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// `CALLS` requests on `path` from slow-cooker through its proxy: each
    /// must be denied with 403 within `CALL_BOUND`, bb's proxy must count
    /// them as failed plugin calls stopped in one of the `stopped_by` ways
    /// (`timeout`, `memory_limit`, `trap`), and slow-cooker's own
    /// traffic must lose nothing.
    async fn contained(&self, what: &str, path: &str, stopped_by: &[&str], active: &str) -> Row {
        let tried = format!(
            "{what}: the test plugin authz-faulty active, {CALLS} requests on {path} from \
             slow-cooker's proxy in west to {AUTHORITY}"
        );
        let counted_before = self.bb_failed_calls(FAULTY).await;
        let before = self.mesh.traffic();
        let mut answers = Vec::new();
        let mut failures = Vec::new();
        for _ in 0..CALLS {
            match wire::call_through_proxy(self.allowed, AUTHORITY, path, CALL_BOUND * 5).await {
                Ok(answer) => answers.push(answer),
                Err(why) => failures.push(why),
            }
        }
        // The plugin still answers ordinary requests after the faults.
        let after = wire::call_through_proxy(self.allowed, AUTHORITY, "/", CALL_BOUND * 5).await;
        tokio::time::sleep(SETTLE).await;
        let window = self.mesh.traffic().since(&before);
        let counted = self.bb_failed_calls(FAULTY).await.map(|after| {
            FAILED_OUTCOMES
                .iter()
                .zip(after)
                .zip(counted_before.clone().unwrap_or_default())
                .map(|((outcome, after), before)| (*outcome, after.saturating_sub(before)))
                .filter(|(_, n)| *n > 0)
                .collect::<Vec<_>>()
        });
        let denied = answers
            .iter()
            .filter(|a| a.code == 403 && a.took <= CALL_BOUND)
            .count();
        let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
        let fastest = answers.iter().map(|a| a.took).min().unwrap_or_default();
        let quoted: Vec<String> = dedup(answers.iter().map(Answer::quote));
        let after_text = match &after {
            Ok(answer) => format!("then `GET /` `{}`", answer.quote()),
            Err(why) => format!("then `GET /` failed: {why}"),
        };
        let counted_text = match &counted {
            Ok(counts) if counts.is_empty() => {
                format!("bb's proxy counted no failed authz call of {FAULTY}")
            }
            Ok(counts) => format!(
                "bb's proxy counted failed authz calls of {FAULTY}: {}",
                counts
                    .iter()
                    .map(|(outcome, n)| format!("{n} `{outcome}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Err(why) => format!("bb's proxy's metrics unreadable: {why}"),
        };
        let stopped = counted.as_ref().is_ok_and(|counts| {
            counts
                .iter()
                .filter(|(outcome, _)| stopped_by.contains(outcome))
                .map(|(_, n)| n)
                .sum::<u64>()
                >= CALLS as u64
        });
        let ok = denied == CALLS
            && failures.is_empty()
            && after.as_ref().is_ok_and(|a| a.code == 200)
            && stopped
            && window.allowed_failed == 0;
        let mut happened = format!(
            "{denied}/{CALLS} answered `{}` in {} to {} ms; {counted_text}; {after_text}; {}",
            quoted.join("`, `"),
            fastest.as_millis(),
            slowest.as_millis(),
            window.served()
        );
        if !failures.is_empty() {
            happened.push_str(&format!(
                "; failed: {}",
                dedup(failures.into_iter()).join("; ")
            ));
        }
        if what.starts_with("a runaway") {
            happened = format!("{active}; {happened}");
        }
        Row::new(DRILL, tried, happened, faulty_lost(&window), ok)
    }

    /// The default plugin pushed back: decisions are the guide's again
    /// (slow-cooker answered, slow-cooker-evil refused, with nothing lost).
    async fn restore(&self) -> Row {
        let version = "drill-default";
        let tried = format!("the default authz plugin pushed back (version {version})");
        let started = Instant::now();
        let pushed = match self.push("default.wasm", AUTHZ_DEFAULT, version).await {
            Ok(pushed) => pushed,
            Err(why) => return Row::new(DRILL, tried, why, "-", false),
        };
        let swapped = self.wait_active_in_bb(version).await;
        // The proxies swap the plugin in as the offer reaches them: wait
        // for a second of the guide's decisions, then watch one more.
        let deadline = Instant::now() + SWAP_TIMEOUT;
        let (settled, last) = loop {
            let last = self.mesh.observe(Duration::from_secs(1)).await;
            if guide_decisions(&last) {
                break (true, last);
            }
            if Instant::now() > deadline {
                break (false, last);
            }
        };
        let took = started.elapsed();
        let window = self.mesh.observe(SETTLE).await;
        let ok = settled && swapped.is_ok() && guide_decisions(&window);
        Row::new(
            DRILL,
            tried,
            format!(
                "{}: `{}`; Event `{}`; bb's proxy: {}; {}; then {}",
                wire::status_annotation(),
                pushed.status,
                pushed.event,
                swapped.unwrap_or_else(|e| e),
                if settled {
                    format!(
                        "the guide's decisions back within {:.1} s of the push",
                        took.as_secs_f64()
                    )
                } else {
                    format!(
                        "the guide's decisions NOT back {:.1} s after the push (last second: {})",
                        took.as_secs_f64(),
                        last.served()
                    )
                },
                window.served()
            ),
            window.lost(),
            ok,
        )
    }

    /// Waits until bb's proxy reports `version` as its active authz plugin
    /// (`plugin_active_version`); the metric line, or why not.
    async fn wait_active_in_bb(&self, version: &str) -> Result<String, String> {
        let deadline = Instant::now() + SWAP_TIMEOUT;
        let wanted = format!("version=\"{version}\"");
        loop {
            let metrics = self.bb_metrics().await;
            if let Ok(text) = &metrics
                && let Some(line) = text.lines().find(|l| {
                    l.contains("plugin_active_version")
                        && l.contains("plugin=\"authz\"")
                        && l.contains(&wanted)
                        && l.trim_end().ends_with(" 1")
                })
            {
                return Ok(format!("`{}`", line.trim()));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "no plugin_active_version for {version} after {SWAP_TIMEOUT:?} ({})",
                    metrics
                        .err()
                        .unwrap_or_else(|| "another version active".into())
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn bb_metrics(&self) -> Result<String, String> {
        let answer = wire::get(
            None,
            self.bb_admin,
            "bb-proxy-admin",
            "/metrics",
            CALL_BOUND * 5,
        )
        .await?;
        if answer.code == 200 {
            Ok(answer.body)
        } else {
            Err(format!("/metrics answered {}", answer.status_line))
        }
    }

    /// bb's proxy's counts of failed authz calls of `version`, in the
    /// order of [`FAILED_OUTCOMES`].
    async fn bb_failed_calls(&self, version: &str) -> Result<Vec<u64>, String> {
        self.bb_metrics().await.map(|text| {
            FAILED_OUTCOMES
                .iter()
                .map(|outcome| wire::plugin_calls(&text, version, outcome))
                .collect()
        })
    }
}

/// The guide's decisions: slow-cooker answered, slow-cooker-evil refused,
/// and neither failed nor admitted wrongly.
fn guide_decisions(window: &Traffic) -> bool {
    window.lossless() && window.allowed_ok > 0 && window.denied_refused > 0
}

/// What was lost while the faulty plugin decided: slow-cooker's failures.
/// slow-cooker-evil's admitted requests are the test plugin's own rule (it
/// admits every ordinary request as `default/faulty-plugin`), not a loss.
fn faulty_lost(window: &Traffic) -> String {
    let lost = if window.allowed_failed == 0 {
        "nothing".to_string()
    } else {
        format!("{} failed allowed requests", window.allowed_failed)
    };
    if window.denied_admitted > 0 {
        format!(
            "{lost} (slow-cooker-evil's {} requests were admitted by the test plugin's own \
             admit-all rule, as written)",
            window.denied_admitted
        )
    } else {
        lost
    }
}

fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests;
