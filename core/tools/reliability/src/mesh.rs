//! The guide's two clusters running in this process under a drill's load:
//! a temporary copy of the pod-to-pod example whose slow-cooker sends the
//! asked rate, `strait local` started on it with its own STRAIT_HOME, and
//! the request totals of both clients.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strait_local::{LocalCluster, LocalMesh, UpOptions};
use strait_local_workloads::LoadCounts;

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

/// Totals of both clients at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    /// slow-cooker's 2xx answers.
    pub allowed_ok: u64,
    /// slow-cooker's failures: every one is a lost request.
    pub allowed_failed: u64,
    /// slow-cooker-evil's 2xx answers: every one is a breach.
    pub denied_admitted: u64,
    /// slow-cooker-evil's refusals (403), as required.
    pub denied_refused: u64,
}

impl Traffic {
    /// What happened between `earlier` and this.
    pub fn since(&self, earlier: &Traffic) -> Traffic {
        Traffic {
            allowed_ok: self.allowed_ok.saturating_sub(earlier.allowed_ok),
            allowed_failed: self.allowed_failed.saturating_sub(earlier.allowed_failed),
            denied_admitted: self.denied_admitted.saturating_sub(earlier.denied_admitted),
            denied_refused: self.denied_refused.saturating_sub(earlier.denied_refused),
        }
    }

    /// No admitted request failed and no refused one was admitted.
    pub fn lossless(&self) -> bool {
        self.allowed_failed == 0 && self.denied_admitted == 0
    }

    /// `N failed allowed, M admitted denied` or `nothing`.
    pub fn lost(&self) -> String {
        if self.lossless() {
            "nothing".into()
        } else {
            format!(
                "{} failed allowed requests, {} admitted denied requests",
                self.allowed_failed, self.denied_admitted
            )
        }
    }

    /// `N allowed requests answered, M denied requests refused`.
    pub fn served(&self) -> String {
        format!(
            "{} allowed requests answered 2xx, {} denied requests refused",
            self.allowed_ok, self.denied_refused
        )
    }
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
        let allowed = self.load_of(ALLOWED_CLIENT);
        let denied = self.load_of(DENIED_CLIENT);
        Traffic {
            allowed_ok: allowed.as_ref().map_or(0, LoadCounts::succeeded),
            allowed_failed: allowed.as_ref().map_or(0, LoadCounts::failed),
            denied_admitted: denied.as_ref().map_or(0, LoadCounts::succeeded),
            denied_refused: denied.as_ref().map_or(0, LoadCounts::failed),
        }
    }

    /// Why slow-cooker's last failed request failed.
    pub fn last_allowed_failure(&self) -> Option<String> {
        self.load_of(ALLOWED_CLIENT)?.last_failure()
    }

    /// Waits `window` and returns the traffic of that window.
    pub async fn observe(&self, window: Duration) -> Traffic {
        let before = self.traffic();
        tokio::time::sleep(window).await;
        self.traffic().since(&before)
    }

    /// Waits until both clients have sent and slow-cooker has had a full
    /// second with no failure: the mesh is converged and a drill can start
    /// counting.
    pub async fn wait_flowing(&self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            let second = self.observe(Duration::from_secs(1)).await;
            if second.allowed_ok > 0 && second.allowed_failed == 0 && second.denied_refused > 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the guide's traffic did not settle within {timeout:?}: last second {second:?}, last failure {:?}",
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
