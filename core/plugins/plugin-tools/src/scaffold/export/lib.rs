//! An export plugin for strait. It mirrors a remote Service pod to pod when
//! it is labelled `mirror.linkerd.io/exported=remote-discovery`, whatever the
//! Link's selectors say; federated members (`<name>-federated`) are left to
//! Linkerd's rule, `Exporter::federate`'s default. Change `decide` (or add
//! `federate`) to export by rules of your own; `cases.yaml` says what the
//! plugin must decide.

use strait_plugin_sdk::export::{Decision, Link, RemoteService};
use strait_plugin_sdk::{Exporter, no_extras, selector};

const LABEL: &str = "mirror.linkerd.io/exported";

struct Plugin;

impl Exporter for Plugin {
    fn decide(service: &RemoteService, _link: &Link) -> Decision {
        if selector::has(&service.labels, LABEL, "remote-discovery") {
            Decision::RemoteDiscovery(no_extras())
        } else {
            Decision::NotExported(format!("{} has no label {LABEL}=remote-discovery", service.name))
        }
    }
}

strait_plugin_sdk::export_export!(Plugin);
