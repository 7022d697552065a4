//! An export plugin of contract `strait:export-mode@0.1.0`, as plugins built
//! before federated Services were: it mirrors pod to pod every Service
//! annotated `strait.io/export-v0-1: yes`, with an extra label, and knows
//! nothing of federation. The host must load it and decide through it.

wit_bindgen::generate!({
    path: "../../../wit/export/0.1",
    world: "export-plugin",
});

use exports::strait::export_mode::exporter::Guest;
use strait::export_mode::types as wit;

struct V01;

impl Guest for V01 {
    fn decide(service: wit::RemoteService, _link: wit::Link) -> wit::Decision {
        let asked = service
            .annotations
            .iter()
            .any(|a| a.key == "strait.io/export-v0-1" && a.value == "yes");
        if !asked {
            return wit::Decision::NotExported("not annotated strait.io/export-v0-1=yes".into());
        }
        wit::Decision::RemoteDiscovery(wit::MirrorExtras {
            labels: vec![wit::Label {
                key: "contract".into(),
                value: "0.1".into(),
            }],
            annotations: Vec::new(),
        })
    }
}

export!(V01);
