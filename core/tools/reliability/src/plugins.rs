//! The plugins drill: bad authz plugins pushed into the server's cluster
//! while the guide's traffic runs. Each is pushed by the code `strait plugin
//! push` runs (`strait_plugin_tools::push`), whose check must refuse the bad
//! ones with the ConfigMap left as it was; those are then also written
//! straight into the plugins ConfigMap, as an operator with kubectl could,
//! so the control plane's own refusal is seen: its status annotation (on
//! the status ConfigMap beside the plugins ConfigMap) and Warning Event,
//! with the last good plugin still deciding. Plugins that pass (a 10 MB one, and the test plugin that
//! loops, exhausts memory or traps on chosen paths) are distributed, and
//! requests on those paths must be denied quickly while slow-cooker loses
//! nothing. The default plugin is pushed back at the end.

pub(crate) mod wire;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use strait_default_plugins::{AUTHZ_DEFAULT, EXPORT_DEFAULT, fixtures};
use strait_mesh::names::CONTROL_PLANE_NAMESPACE;
use strait_plugin_host::PluginKind;
use strait_store::MemoryStore;

use crate::accounting::{Denied, Ledger, Window};
use crate::mesh::{ALLOWED_CLIENT, CLIENT_CLUSTER, DENIED_CLIENT, NAMESPACE, SERVER_CLUSTER};
use crate::{DrillMesh, Row};
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
    /// The clients' windows, one row after another.
    ledger: Ledger<'a>,
    /// East's store, where the plugins ConfigMap lives.
    store: MemoryStore,
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
        let bb_admin = crate::faults::bb_admin(mesh)?;
        let files = mesh
            .dir()
            .parent()
            .map_or_else(|| mesh.dir().join("plugins"), |root| root.join("plugins"));
        std::fs::create_dir_all(&files).map_err(|e| format!("{}: {e}", files.display()))?;
        Ok(Drill {
            mesh,
            ledger: Ledger::open(mesh),
            store: east.store().clone(),
            files,
            allowed: address_of(ALLOWED_CLIENT)?,
            denied: address_of(DENIED_CLIENT)?,
            bb_admin,
        })
    }

    /// Writes `bytes` to a file and runs `strait plugin push --kind authz
    /// FILE --plugin-version VERSION` on it against east: `ok authz
    /// <digest>` once written, or the push's error.
    async fn push_file(&self, name: &str, bytes: &[u8], version: &str) -> Result<String, String> {
        let path = self.files.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let store = self.store.clone();
        let version = version.to_string();
        let runtime = tokio::runtime::Handle::current();
        // The push compiles the component before it writes: off the
        // runtime's threads, which run the mesh's proxies.
        let pushed = tokio::task::spawn_blocking(move || {
            runtime.block_on(strait_plugin_tools::push::push(
                PluginKind::Authz,
                &path,
                Some(&version),
                CONTROL_PLANE_NAMESPACE,
                async || Ok(store),
            ))
        })
        .await
        .map_err(|e| format!("the push did not finish: {e}"))?;
        // As `strait plugin push` names the file, run where it is.
        let dir = format!("{}/", self.files.display());
        pushed
            .map(|pushed| format!("ok authz {}", pushed.digest))
            .map_err(|error| format!("error: {error}").replace(&dir, ""))
    }

    /// `strait plugin push --kind authz FILE --plugin-version VERSION`, then
    /// waits for the control plane to report the plugin active.
    async fn push(&self, name: &str, bytes: &[u8], version: &str) -> Result<Pushed, String> {
        let checked = self.push_file(name, bytes, version).await?;
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
        match self.push("default.wasm", AUTHZ_DEFAULT, BASELINE).await {
            Ok(pushed) => {
                tokio::time::sleep(SETTLE).await;
                let window = self.ledger.close_drained().await;
                let ok =
                    pushed.event.starts_with("Normal PluginActivated") && window.guide_decisions();
                self.row(
                    tried,
                    format!(
                        "push: `{}`; {}: `{}`; Event `{}`",
                        pushed.checked,
                        wire::status_annotation(),
                        pushed.status,
                        pushed.event,
                    ),
                    ok,
                    &window,
                    Denied::Refused,
                )
            }
            Err(why) => {
                let window = self.ledger.close_drained().await;
                self.row(tried, why, false, &window, Denied::Refused)
            }
        }
    }

    /// A row judged on `window` too, with the clients' last failures named
    /// when it lost requests.
    fn row(&self, tried: String, happened: String, ok: bool, window: &Window, rule: Denied) -> Row {
        let why = self.mesh.why(window);
        let happened = if why.is_empty() {
            happened
        } else {
            format!("{happened}; {why}")
        };
        Row::judged(DRILL, tried, happened, "nothing", ok, window, rule)
    }

    /// A plugin the push's check must refuse, with nothing written.
    async fn refused_by_push(&self, tried: &str, name: &str, bytes: &[u8], reason: &str) -> Row {
        let stored = wire::stored_authz(&self.store);
        let result = self.push_file(name, bytes, "drill-refused").await;
        tokio::time::sleep(SETTLE).await;
        let unchanged = wire::stored_authz(&self.store) == stored;
        let window = self.ledger.close_drained().await;
        let (happened, refused) = match result {
            Err(error) => (
                format!(
                    "refused by the push's check: `{error}`; ConfigMap {}",
                    if unchanged { "unchanged" } else { "CHANGED" }
                ),
                error.contains(reason),
            ),
            Ok(checked) => (format!("pushed: `{checked}`"), false),
        };
        self.row(
            tried.to_string(),
            happened,
            refused && unchanged,
            &window,
            Denied::Refused,
        )
    }

    /// A plugin written into the ConfigMap past the push: the control plane
    /// must refuse it, say so in the status and a Warning Event, and keep
    /// the baseline deciding as the guide's policy does.
    async fn refused_past_push(&self, tried: &str, bytes: &[u8], reason: &str) -> Row {
        if let Err(why) = wire::operator_write(&self.store, bytes).await {
            let window = self.ledger.close_drained().await;
            return self.row(tried.to_string(), why, false, &window, Denied::Refused);
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
        let window = self.ledger.close_drained().await;
        let kept = status.contains(&format!("still active: {BASELINE} "));
        let ok = reported
            && kept
            && event.starts_with("Warning PluginRejected")
            && window.guide_decisions();
        self.row(
            tried.to_string(),
            format!("{}: `{status}`; Event `{event}`", wire::status_annotation()),
            ok,
            &window,
            Denied::Refused,
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
        let pushed = match self.push("large.wasm", &bytes, version).await {
            Ok(pushed) => pushed,
            Err(why) => {
                let window = self.ledger.close_drained().await;
                return self.row(tried, why, false, &window, Denied::Refused);
            }
        };
        let swapped = self.wait_active_in_bb(version).await;
        tokio::time::sleep(SETTLE).await;
        let window = self.ledger.close_drained().await;
        let ok = pushed.event.starts_with("Normal PluginActivated")
            && swapped.is_ok()
            && window.guide_decisions();
        self.row(
            tried,
            format!(
                "push: `{}`; {}: `{}`; Event `{}`; bb's proxy: {}",
                pushed.checked,
                wire::status_annotation(),
                pushed.status,
                pushed.event,
                swapped.unwrap_or_else(|e| e),
            ),
            ok,
            &window,
            Denied::Refused,
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
        let window = self.ledger.close_drained().await;
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
            && stopped;
        let mut happened = format!(
            "{denied}/{CALLS} answered `{}` in {} to {} ms; {counted_text}; {after_text}",
            quoted.join("`, `"),
            fastest.as_millis(),
            slowest.as_millis(),
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
        if window.denied_admitted() > 0 {
            happened.push_str(&format!(
                "; slow-cooker-evil's {} requests admitted by the test plugin's own admit-all \
                 rule, as written",
                window.denied_admitted()
            ));
        }
        self.row(tried, happened, ok, &window, Denied::RefusedOrAdmitted)
    }

    /// The default plugin pushed back: decisions are the guide's again
    /// (slow-cooker answered, slow-cooker-evil refused, with nothing lost).
    async fn restore(&self) -> Row {
        let version = "drill-default";
        let tried = format!("the default authz plugin pushed back (version {version})");
        let started = Instant::now();
        let pushed = match self.push("default.wasm", AUTHZ_DEFAULT, version).await {
            Ok(pushed) => pushed,
            Err(why) => {
                let window = self.ledger.close_after(tokio::time::Instant::now()).await;
                return self.row(tried, why, false, &window, Denied::RefusedOrAdmitted);
            }
        };
        let swapped = self.wait_active_in_bb(version).await;
        // The proxies swap the plugin in as the offer reaches them: wait
        // for a second of the guide's decisions, then watch on.
        let deadline = Instant::now() + SWAP_TIMEOUT;
        let (settled, last) = loop {
            let last = self.mesh.observe(Duration::from_secs(1)).await;
            if last.guide_decisions() {
                break (true, last);
            }
            if Instant::now() > deadline {
                break (false, last);
            }
        };
        let took = started.elapsed();
        // Until the guide's decisions are back the test plugin may still
        // admit slow-cooker-evil; from then on it must be refused, until
        // the clients' timeout has passed.
        let swapping = self.ledger.close_drained().await;
        let back = self.ledger.close_after(tokio::time::Instant::now()).await;
        let ok = settled
            && swapped.is_ok()
            && back.guide_decisions()
            && swapping.ok_with(Denied::RefusedOrAdmitted);
        let lost = if back.denied_admitted() > 0 {
            format!(
                "{} denied requests admitted after the guide's decisions were back",
                back.denied_admitted()
            )
        } else {
            "nothing".to_string()
        };
        let mut row = self.row(
            tried,
            format!(
                "{}: `{}`; Event `{}`; bb's proxy: {}; {}; then {} of the guide's decisions",
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
                        last.counts()
                    )
                },
                if back.guide_decisions() {
                    format!("{:.1} s", back.took.as_secs_f64())
                } else {
                    format!("NOT {:.1} s", back.took.as_secs_f64())
                },
            ),
            ok,
            &swapping.plus(&back),
            Denied::RefusedOrAdmitted,
        );
        if lost != "nothing" {
            row.lost = if row.lost == "nothing" {
                lost
            } else {
                format!("{}; {lost}", row.lost)
            };
        }
        row
    }

    /// Waits until bb's proxy reports `version` as its active authz plugin
    /// (`plugin_active_version`); the metric line, or why not.
    async fn wait_active_in_bb(&self, version: &str) -> Result<String, String> {
        crate::faults::wait_active_in_proxy(self.bb_admin, version, SWAP_TIMEOUT).await
    }

    /// bb's proxy's counts of failed authz calls of `version`, in the
    /// order of [`FAILED_OUTCOMES`].
    async fn bb_failed_calls(&self, version: &str) -> Result<Vec<u64>, String> {
        crate::faults::proxy_metrics(self.bb_admin)
            .await
            .map(|text| {
                FAILED_OUTCOMES
                    .iter()
                    .map(|outcome| wire::plugin_calls(&text, version, outcome))
                    .collect()
            })
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
