//! Metrics as a scraper reads them: tests assert on the Prometheus text
//! rather than on the metric types, so that names and labels are checked
//! as Linkerd's dashboards will see them.

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;

/// The Prometheus text of the metrics `register` registers in a fresh
/// registry (each strait metrics type has a `register(&mut Registry)`).
pub fn exposition(register: impl FnOnce(&mut Registry)) -> String {
    let mut registry = Registry::default();
    register(&mut registry);
    let mut text = String::new();
    if let Err(e) = encode(&mut text, &registry) {
        panic!("the metrics do not encode: {e}");
    }
    text
}

#[cfg(test)]
mod tests;
