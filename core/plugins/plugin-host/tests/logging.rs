//! What plugins log reaches the host's log, tagged with the plugin and version.

mod support;

use std::io::Write;
use std::sync::Arc;

use parking_lot::Mutex;
use strait_decisions::authz::ClientTls;
use strait_decisions::cases::{SLOW_COOKER, request};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn plugin_log_lines_reach_the_host_log() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let host = support::host();
    let plugin = support::faulty_authz(&host);
    let mut req = request(ClientTls::Mtls(SLOW_COOKER.into()), "10.0.0.1");
    if let Some(http) = req.http.as_mut() {
        http.path = "/log".into();
    }
    let verdict =
        tracing::subscriber::with_default(subscriber, || plugin.authorize(req, &support::set(&[])));
    assert!(verdict.decision.is_allow());
    let log = String::from_utf8(captured.0.lock().clone()).unwrap();
    let label = &plugin.active().label;
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] {
        let line = log
            .lines()
            .find(|l| l.contains(level) && l.contains("user-agent slow_cooker"))
            .unwrap_or_else(|| panic!("no {level} line from the plugin in:\n{log}"));
        assert!(
            line.contains("plugin=\"authz\"") || line.contains("plugin=authz"),
            "{line}"
        );
        assert!(line.contains(label.as_str()), "{line}");
    }
}
