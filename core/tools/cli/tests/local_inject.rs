//! The pod-to-pod example with its workloads injected by `strait inject`
//! instead of annotated: `strait local up` must run the injected pods as
//! meshed, and bb must serve slow-cooker's traffic pod to pod.

#[allow(dead_code)]
#[path = "support/guide.rs"]
mod guide;
#[path = "support/one_mesh.rs"]
mod one_mesh;

use std::time::Duration;

use guide::{Workspace, assert_rate, text};

/// The annotation the example's pod templates carry, removed so that only
/// the injected proxy container makes them meshed.
const INJECT_ANNOTATION: &str = "      annotations:\n        linkerd.io/inject: enabled\n";

/// The clients sleep 5 s before they start, then a full 15 s window.
const SETTLE: Duration = Duration::from_secs(22);

#[test]
fn the_guide_runs_on_manifests_from_strait_inject() {
    let _mesh = one_mesh::one_mesh();
    let ws = Workspace::new("inject", &["west/slow-cooker-evil.yaml"]);
    // Injected before any cluster runs, so offline; `strait local` gives
    // its proxies the clusters' own anchors whatever the spec says.
    let anchors = ws.path("ca.crt");
    std::fs::write(
        &anchors,
        "-----BEGIN CERTIFICATE-----\nMIIBoffline\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    for (file, deployment) in [
        ("east/bb.yaml", "bb"),
        ("west/slow-cooker.yaml", "slow-cooker"),
    ] {
        ws.edit(file, INJECT_ANNOTATION, "");
        let path = ws.path(file);
        let output = ws.strait(
            &[
                "inject",
                "--ignore-cluster",
                "--identity-trust-anchors-file",
                anchors.to_str().unwrap(),
                path.to_str().unwrap(),
            ],
            None,
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        let report = text(&output.stderr);
        assert!(
            report.contains(&format!("deployment \"{deployment}\" injected\n")),
            "{report}"
        );
        let injected = text(&output.stdout);
        assert!(injected.contains("name: linkerd-proxy\n"), "{injected}");
        std::fs::write(&path, injected).unwrap();
    }

    let up = ws.local_up(&[]);
    for cluster in ["east", "west"] {
        for pod in ws.pods(cluster) {
            let containers: Vec<&str> = pod["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            assert_eq!(containers[0], "linkerd-proxy", "{pod}");
        }
    }
    std::thread::sleep(SETTLE);
    let stat = ws.viz("east", "stat", "15s", &[]);
    let bb = stat
        .row("NAME", "bb")
        .unwrap_or_else(|| panic!("no bb in {stat:?}"));
    assert_eq!(bb["MESHED"], "1/1", "{bb:?}");
    assert_eq!(bb["SUCCESS"], "100.00%", "{bb:?}");
    assert_rate(&bb["RPS"], 10.0, 0.15, "bb injected by strait inject");
    let west = ws.viz("west", "stat", "15s", &[]);
    let client = west
        .row("NAME", "slow-cooker")
        .unwrap_or_else(|| panic!("no slow-cooker in {west:?}"));
    assert_eq!(client["MESHED"], "1/1", "{client:?}");
    up.stop();
}
