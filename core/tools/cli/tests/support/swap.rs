//! Whether slow-cooker is served throughout an authz plugin swap in a
//! running `strait local up` of the pod-to-pod example, read from the
//! proxies' `/metrics`: slow-cooker's proxy sees every answer slow-cooker
//! got, and bb's proxy counts what it refused by client identity and which
//! plugin version serves now.
//!
//! bb's success rate (`viz stat`) cannot say it: a request bb's proxy
//! refuses never reaches bb's `response_total`, and an error of
//! slow-cooker's own proxy never reaches bb. A plugin counts as delivered
//! when bb's proxy says it runs it, not when the control plane says it
//! accepted it.

use std::time::Duration;

use strait_mesh::ports::ADMIN_PORT;
use strait_test_support::guide::SLOW_COOKER;
use strait_test_support::scrape::{self, Readings};

use crate::guide::{Workspace, eventually, http_get};

/// How many of slow-cooker's requests bb's proxy must have admitted with
/// the new version before a swap counts as over: a second of its traffic,
/// so that every request sent while the versions changed has its answer.
const DECIDED_AFTER_SWAP: f64 = 10.0;

/// How long a pushed plugin may take to reach bb's proxy and decide a
/// second of slow-cooker's requests.
const DELIVERY: Duration = Duration::from_secs(30);

/// slow-cooker's and bb's proxies, and what they said when the watch
/// started (or was last checked).
pub struct SwapWatch {
    bb: String,
    slow_cooker: String,
    since: Readings,
}

impl SwapWatch {
    /// Finds bb's and slow-cooker's pods and reads their proxies now.
    pub fn start(ws: &Workspace) -> SwapWatch {
        let admin = |cluster: &str, app: &str| {
            let pod = ws
                .pods(cluster)
                .into_iter()
                .find(|p| p["metadata"]["labels"]["app"] == app)
                .unwrap_or_else(|| panic!("no {app} pod in {cluster}"));
            let ip = pod["status"]["podIP"]
                .as_str()
                .unwrap_or_else(|| panic!("{app}'s pod has no address: {pod}"));
            format!("{ip}:{ADMIN_PORT}")
        };
        let mut watch = SwapWatch {
            bb: admin("east", "bb"),
            slow_cooker: admin("west", "slow-cooker"),
            since: Readings::default(),
        };
        watch.since = watch.read();
        watch
    }

    fn read(&self) -> Readings {
        Readings {
            client: http_get(&self.slow_cooker, "/metrics"),
            server: http_get(&self.bb, "/metrics"),
        }
    }

    /// bb's proxy's `/metrics` now.
    pub fn bb_metrics(&self) -> String {
        http_get(&self.bb, "/metrics")
    }

    /// The authz plugin version bb's proxy runs now, by its own
    /// `plugin_active_version`.
    pub fn active(&self) -> Option<String> {
        active_version(&self.bb_metrics())
    }

    /// Waits until bb's proxy runs authz plugin `version` and has admitted
    /// a second of slow-cooker's requests with it, then asserts
    /// slow-cooker was served throughout since the last check.
    pub fn assert_delivered(&mut self, version: &str, what: &str) {
        let admitted_by = format!("plugin_version=\"{version}\"");
        let client = format!("client_id=\"{SLOW_COOKER}\"");
        eventually(
            DELIVERY,
            &format!("{what}: {version} active on bb's proxy and deciding"),
            || {
                let bb = self.bb_metrics();
                let decided = scrape::sum(
                    &bb,
                    "inbound_http_authz_allow_total",
                    &[&client, &admitted_by],
                );
                (active_version(&bb).as_deref() == Some(version) && decided >= DECIDED_AFTER_SWAP)
                    .then_some(())
            },
        );
        self.assert_served(what);
    }

    /// Asserts slow-cooker was served throughout since the last check (or
    /// the start), as [`scrape::served_throughout`] judges, and checks
    /// from now on next time.
    pub fn assert_served(&mut self, what: &str) {
        let now = self.read();
        match scrape::served_throughout(&self.since, &now, SLOW_COOKER) {
            Ok(answered) => println!("{what}: slow-cooker served throughout ({answered} answered)"),
            Err(failure) => panic!("{what}: {failure}"),
        }
        self.since = now;
    }
}

/// The authz plugin version a proxy's `/metrics` reports serving.
fn active_version(metrics: &str) -> Option<String> {
    scrape::series(metrics, "plugin_active_version", &["plugin=\"authz\""])
        .filter(|(_, value)| *value == 1.0)
        .find_map(|(labels, _)| scrape::label(labels, "version").map(str::to_string))
}
