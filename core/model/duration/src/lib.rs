//! Durations in the notation Linkerd's resources, flags and proxy
//! variables use: Go's (`500ms`, `1m30s`).
//!
//! [`timestamp`] reads and writes instants as the Kubernetes API writes
//! them (RFC 3339).
//!
//! A crate of its own, with no dependencies, so the proxy reads its
//! variables the way the controllers read resources without taking the
//! resource types (and Kubernetes with them).

use std::time::Duration;

pub mod timestamp;

/// Reads a Go duration as Linkerd's resources and flags write them (`500ms`,
/// `3s`, `1m`, `1m30s`, `2h`), so values copied from Linkerd's manifests and
/// command lines mean the same here. A number without a unit is refused, as
/// Go refuses it; `None` for anything that is not a duration, or that is
/// too long for one.
pub fn go_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let (number, after) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(after.len());
        let (unit, next) = after.split_at(unit_len);
        let seconds = match unit {
            "ns" => value / 1e9,
            "us" | "µs" => value / 1e6,
            "ms" => value / 1e3,
            "s" => value,
            "m" => value * 60.0,
            "h" => value * 3600.0,
            _ => return None,
        };
        total = total.checked_add(Duration::try_from_secs_f64(seconds).ok()?)?;
        rest = next;
    }
    Some(total)
}

#[cfg(test)]
mod tests;
