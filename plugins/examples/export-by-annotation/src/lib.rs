//! Exports a Service when it asks to be, by annotation, and only from the
//! namespaces listed here: `strait.io/export: remote-discovery` mirrors it
//! pod to pod, `strait.io/export: gateway` through the Link's gateway (when
//! the Link has one). The Link's own selectors are not consulted.

use strait_plugin_sdk::export::{Decision, Link, RemoteService};
use strait_plugin_sdk::{Exporter, no_extras, selector};

/// The namespaces whose Services may be exported.
const NAMESPACES: &[&str] = &["mc-demo", "shop"];
/// The annotation a Service sets to be exported.
const ANNOTATION: &str = "strait.io/export";

struct ExportByAnnotation;

impl Exporter for ExportByAnnotation {
    fn decide(service: &RemoteService, link: &Link) -> Decision {
        if !NAMESPACES.contains(&service.namespace.as_str()) {
            return Decision::NotExported(format!(
                "namespace {} is not one this plugin exports from",
                service.namespace
            ));
        }
        match selector::get(&service.annotations, ANNOTATION) {
            Some("remote-discovery") => Decision::RemoteDiscovery(no_extras()),
            Some("gateway") if link.has_gateway => Decision::Gateway(no_extras()),
            Some("gateway") => Decision::NotExported(format!("Link {} has no gateway", link.name)),
            Some(other) => {
                strait_plugin_sdk::warn!(
                    "{}/{}: unknown {ANNOTATION} value {other:?}",
                    service.namespace,
                    service.name
                );
                Decision::NotExported(format!("unknown {ANNOTATION} value {other:?}"))
            }
            None => Decision::NotExported(format!("no {ANNOTATION} annotation")),
        }
    }
}

strait_plugin_sdk::export_export!(ExportByAnnotation);
