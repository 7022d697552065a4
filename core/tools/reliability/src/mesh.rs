//! The guide's two clusters running in this process under a drill's load:
//! a temporary copy of the pod-to-pod example whose slow-cooker sends the
//! asked rate, `strait local` started on it with its own STRAIT_HOME, and
//! the request totals of both clients.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strait_local::{LocalCluster, LocalMesh, UpOptions};
use strait_local_workloads::LoadCounts;

pub use crate::accounting::Traffic;

/// The namespace of the guide's workloads.
pub const NAMESPACE: &str = "mc-demo";
/// The client the guide's policy admits.
pub const ALLOWED_CLIENT: &str = "slow-cooker";
/// The client the guide's policy refuses.
pub const DENIED_CLIENT: &str = "slow-cooker-evil";
/// Where both clients run.
pub const CLIENT_CLUSTER: &str = "west";
/// Where bb, the server, runs.
pub const SERVER_CLUSTER: &str = "east";

/// How hard the clients push.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Requests a second from slow-cooker (the admitted client).
    pub allowed_rps: u32,
    /// Requests a second from slow-cooker-evil (the refused client).
    pub denied_rps: u32,
}

/// The running clusters, removed with their directory on drop.
pub struct DrillMesh {
    mesh: Option<LocalMesh>,
    root: PathBuf,
    dir: PathBuf,
}

impl DrillMesh {
    /// Copies `example` (the pod-to-pod example's directory) to a temporary
    /// directory with the clients set to `load`, starts it, and waits until
    /// slow-cooker's requests succeed and slow-cooker-evil's are refused.
    pub async fn start(example: &Path, load: Load, tag: &str) -> Result<DrillMesh, String> {
        let root =
            std::env::temp_dir().join(format!("strait-reliability-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let dir = root.join("pod-to-pod");
        copy_dir(example, &dir)?;
        set_rate(&dir.join("west/slow-cooker.yaml"), load.allowed_rps)?;
        set_rate(&dir.join("west/slow-cooker-evil.yaml"), load.denied_rps)?;
        let home = root.join("home");
        std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
        let mesh = strait_local::up(UpOptions {
            dir: dir.clone(),
            strait_home: Some(home),
            merge_kubeconfig: None,
            controllers_via_api: false,
        })
        .await
        .map_err(|e| format!("strait local did not start: {e}"))?;
        let drill = DrillMesh {
            mesh: Some(mesh),
            root,
            dir,
        };
        drill.wait_flowing(Duration::from_secs(90)).await?;
        Ok(drill)
    }

    /// The running clusters.
    pub fn mesh(&self) -> Result<&LocalMesh, String> {
        self.mesh
            .as_ref()
            .ok_or_else(|| "the mesh is stopped".to_string())
    }

    /// The cluster named `name`.
    pub fn cluster(&self, name: &str) -> Result<Arc<LocalCluster>, String> {
        self.mesh()?
            .clusters()
            .iter()
            .find(|c| c.name() == name)
            .cloned()
            .ok_or_else(|| format!("no cluster {name}"))
    }

    /// The copy of the example the clusters run from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The load generator of `deployment` in the client cluster.
    pub fn load_of(&self, deployment: &str) -> Option<LoadCounts> {
        let cluster = self.cluster(CLIENT_CLUSTER).ok()?;
        cluster
            .pods()
            .into_iter()
            .filter(|p| p.namespace == NAMESPACE && p.deployment.as_deref() == Some(deployment))
            .find_map(|p| p.load)
    }

    /// Both clients' totals now.
    pub fn traffic(&self) -> Traffic {
        let totals = |load: Option<LoadCounts>| load.map(|l| l.totals()).unwrap_or_default();
        Traffic {
            allowed: totals(self.load_of(ALLOWED_CLIENT)),
            denied: totals(self.load_of(DENIED_CLIENT)),
        }
    }

    /// The requests a second each client is configured to send
    /// (slow-cooker's, slow-cooker-evil's).
    pub fn rates(&self) -> (u64, u64) {
        let rate = |name| self.load_of(name).map_or(0, |l| l.rate());
        (rate(ALLOWED_CLIENT), rate(DENIED_CLIENT))
    }

    /// The longer of the two clients' request timeouts: how long after a
    /// request was sent its ending is known.
    pub fn client_timeout(&self) -> Duration {
        [ALLOWED_CLIENT, DENIED_CLIENT]
            .into_iter()
            .filter_map(|name| self.load_of(name).map(|l| l.timeout()))
            .max()
            .unwrap_or(Duration::from_secs(10))
    }

    /// Whether every request both clients had sent at `mark` has ended.
    pub fn ended_before(&self, mark: &Traffic) -> bool {
        let ended = |name, sent| self.load_of(name).is_none_or(|l| l.ended_before(sent));
        ended(ALLOWED_CLIENT, mark.allowed.sent) && ended(DENIED_CLIENT, mark.denied.sent)
    }

    /// Why slow-cooker's last failed request failed.
    pub fn last_allowed_failure(&self) -> Option<String> {
        self.load_of(ALLOWED_CLIENT)?.last_failure()
    }

    /// Why slow-cooker-evil's last request answered neither 2xx nor 403
    /// was not.
    pub fn last_denied_error(&self) -> Option<String> {
        self.load_of(DENIED_CLIENT)?.last_error()
    }

    /// Why the window's losses happened, as far as the clients know: the
    /// last failure of each client that lost requests in it, or nothing.
    pub fn why(&self, window: &crate::accounting::Window) -> String {
        let mut causes = Vec::new();
        if window.allowed_failed() > 0
            && let Some(why) = self.last_allowed_failure()
        {
            causes.push(format!("{ALLOWED_CLIENT}'s last failure: {why}"));
        }
        if window.traffic.denied.other() > 0
            && let Some(why) = self.last_denied_error()
        {
            causes.push(format!("{DENIED_CLIENT}'s last error: {why}"));
        }
        causes.join("; ")
    }

    /// Waits `window` and returns the traffic of that window.
    pub async fn observe(&self, window: Duration) -> crate::accounting::Window {
        let ledger = crate::accounting::Ledger::open(self);
        tokio::time::sleep(window).await;
        ledger.close()
    }

    /// Waits until both clients have sent and slow-cooker has had a full
    /// second of nothing but 2xx, slow-cooker-evil of nothing but 403: the
    /// mesh is converged and a drill can start counting.
    pub async fn wait_flowing(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let second = self.observe(Duration::from_secs(1)).await;
            let (allowed, denied) = (&second.traffic.allowed, &second.traffic.denied);
            if allowed.ok > 0
                && allowed.ok == allowed.ended()
                && denied.forbidden > 0
                && denied.forbidden == denied.ended()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the guide's traffic did not settle within {timeout:?}: last second {}, last failure {:?}",
                    second.counts(),
                    self.last_allowed_failure()
                ));
            }
        }
    }

    /// Stops the clusters and waits for their sockets to close.
    pub async fn stop(mut self) {
        if let Some(mesh) = self.mesh.take() {
            mesh.shutdown().await;
        }
    }
}

impl Drop for DrillMesh {
    fn drop(&mut self) {
        drop(self.mesh.take());
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Rewrites the `--qps 10` of a slow-cooker manifest to send `rps` a
/// second: over 100, as slow_cooker does it, with `--concurrency` workers
/// of at most 100 each.
fn set_rate(path: &Path, rps: u32) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let workers = rps.div_ceil(100).max(1);
    let per_worker = (rps / workers).max(1);
    let flags = format!("--qps {per_worker} --concurrency {workers}");
    if !text.contains("--qps 10 ") {
        return Err(format!(
            "{} has no `--qps 10` to set the drill's rate in",
            path.display()
        ));
    }
    std::fs::write(path, text.replacen("--qps 10 ", &format!("{flags} "), 1))
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let path = entry
            .map_err(|e| format!("{}: {e}", from.display()))?
            .path();
        let Some(name) = path.file_name() else {
            continue;
        };
        // The state a run left in the example is not the example.
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(name))?;
        } else {
            std::fs::copy(&path, to.join(name)).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}
