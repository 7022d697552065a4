//! `strait local up DIR`: every cluster of DIR in this process, until
//! Ctrl-C or for `--duration`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

/// How often the live view is redrawn.
const REFRESH: Duration = Duration::from_secs(3);
/// The window of the final `viz` tables.
const FINAL_WINDOW: Duration = Duration::from_secs(60);
/// The shortest window `viz` accepts.
const MIN_WINDOW: Duration = Duration::from_secs(15);

/// `strait local ...`.
#[derive(Subcommand)]
pub enum LocalCommand {
    /// Run every cluster of DIR (one subdirectory per cluster) on this
    /// machine: embedded stores loaded from the YAML files, control planes
    /// under one trust anchor, service mirrors, workloads with proxies.
    ///
    /// Each cluster serves the Kubernetes API; the kubeconfig
    /// `$STRAIT_HOME/kubeconfig` has a context per cluster, named after its
    /// directory, for kubectl (`KUBECONFIG=... kubectl --context east ...`)
    /// and `strait --context <cluster> ...` (which reads that file after
    /// your own kubeconfig). Changes are saved in the cluster's directory.
    Up {
        /// The directory holding one subdirectory per cluster.
        dir: PathBuf,
        /// Stop after this long (Go notation: 30s, 2m) and print the final
        /// `viz` tables of every cluster; without it, run until Ctrl-C.
        #[arg(long, value_parser = parse_duration)]
        duration: Option<Duration>,
        /// Also add the clusters' contexts to your default kubeconfig
        /// (`$KUBECONFIG`'s first file, else ~/.kube/config). A context of
        /// yours with the same name is kept and reported, never replaced.
        #[arg(long)]
        merge_kubeconfig: bool,
        /// strait's controllers (policy, destination, service mirrors)
        /// reach their own cluster through its Kubernetes API with kube's
        /// client, as on a Kubernetes cluster, instead of in-process.
        #[arg(long)]
        controllers_via_api: bool,
    },
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    strait_api::go_duration(text)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{text:?} is not a duration such as 30s or 2m"))
}

pub fn run(command: LocalCommand) -> ExitCode {
    let LocalCommand::Up {
        dir,
        duration,
        merge_kubeconfig,
        controllers_via_api,
    } = command;
    let merge_kubeconfig = match merge_kubeconfig.then(strait_local::kube_api::default_kubeconfig) {
        Some(None) => {
            eprintln!("error: --merge-kubeconfig: neither KUBECONFIG nor HOME is set");
            return ExitCode::FAILURE;
        }
        Some(Some(path)) => Some(path),
        None => None,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let mesh = match strait_local::up(strait_local::UpOptions {
            dir,
            strait_home: None,
            merge_kubeconfig,
            controllers_via_api,
        })
        .await
        {
            Ok(mesh) => mesh,
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::FAILURE;
            }
        };
        eprintln!("{}", started(&mesh));
        let live = std::io::stdout().is_terminal();
        let deadline = duration.map(|d| tokio::time::Instant::now() + d);
        let mut refresh = tokio::time::interval(REFRESH);
        let stop = crate::signal::terminated();
        tokio::pin!(stop);
        loop {
            let until_deadline = async {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = refresh.tick() => {
                    if live {
                        // Clear the screen and draw from the top.
                        print!("\x1b[2J\x1b[H{}", strait_local::live_view(&mesh));
                    }
                }
                () = until_deadline => break,
                () = &mut stop => break,
            }
        }
        // The second half of a short run: traffic has settled by then
        // (the guide's clients sleep 5 s before they start).
        let window = duration.map_or(FINAL_WINDOW, |d| (d / 2).clamp(MIN_WINDOW, FINAL_WINDOW));
        print!("{}", strait_local::final_tables(&mesh, window));
        print!("{}", services(&mesh));
        mesh.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// What `local up` says once the clusters run: how to reach them.
fn started(mesh: &strait_local::LocalMesh) -> String {
    let names = mesh.names();
    let first = names.first().cloned().unwrap_or_default();
    let mut text = format!("strait local: clusters {} running", names.join(", "));
    if mesh.controllers_via_api() {
        text.push_str("; strait's controllers reach each cluster through its Kubernetes API");
    }
    if let Some(path) = mesh.kubeconfig() {
        text.push_str(&format!(
            "\n  kubectl:  export KUBECONFIG={}\n            kubectl --context {first} get pods -A\n  strait:   strait --context {first} ...",
            path.display()
        ));
    }
    if let Some((path, merged)) = mesh.merged() {
        if !merged.written.is_empty() {
            text.push_str(&format!(
                "\n  contexts {} added to {}",
                merged.written.join(", "),
                path.display()
            ));
        }
        for kept in &merged.kept {
            text.push_str(&format!(
                "\n  warning: {} already has a context {kept:?} of yours; it was left as it is (use KUBECONFIG={} for this run's)",
                path.display(),
                mesh.kubeconfig().map(|p| p.display().to_string()).unwrap_or_default()
            ));
        }
    }
    text
}

/// `get svc` of every namespace that runs deployments, per cluster: where
/// the mirrors show up.
fn services(mesh: &strait_local::LocalMesh) -> String {
    use std::collections::BTreeSet;
    use std::fmt::Write as _;
    let resource = strait_kubectl::resources::resolve_resource("svc");
    let mut out = String::new();
    for cluster in mesh.clusters() {
        let namespaces: BTreeSet<String> = cluster
            .pods()
            .into_iter()
            .filter(|p| p.deployment.is_some())
            .map(|p| p.namespace)
            .collect();
        for namespace in namespaces {
            let objects: Vec<serde_json::Value> = cluster
                .store()
                .objects()
                .into_iter()
                .filter(|(kind, o)| {
                    kind.kind == "Service"
                        && kind.group.is_empty()
                        && o["metadata"]["namespace"] == namespace.as_str()
                })
                .map(|(_, o)| (*o).clone())
                .collect();
            let _ = writeln!(
                out,
                "$ strait --context {} get svc -n {namespace}",
                cluster.name()
            );
            out.push_str(&strait_kubectl::get::table(&resource, &objects, false));
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
        }
    }
    out
}
