//! Port lists as Linkerd's annotations write them (`25,587,3306,8000-8080`):
//! which ports of a Service are opaque. Here, beside the resources the
//! annotation is read from, because two controllers read it and must agree:
//! policy (the ports it serves as opaque) and destination (the endpoints it
//! hints opaque transport for).

use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The annotation that lists a Service's (or a pod's) opaque ports: the
/// proxy skips protocol detection on them and forwards bytes as they come.
pub const OPAQUE_PORTS_ANNOTATION: &str = "config.linkerd.io/opaque-ports";

/// Linkerd's default opaque ports (its `proxy.opaquePorts` value): SMTP,
/// MySQL, Galera, PostgreSQL, Redis, Elasticsearch and memcached, which
/// speak first or are otherwise not detectable.
pub const LINKERD_DEFAULT_OPAQUE_PORTS: &str = "25,587,3306,4444,5432,6379,9300,11211";

/// A set of TCP ports, kept as the ranges it was written with so that a
/// range as wide as `1-65535` costs no more than one port.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct PortSet(Vec<RangeInclusive<u16>>);

/// Why a port list cannot be read; names the entry at fault so the
/// annotation can be fixed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InvalidPorts {
    /// An entry that is neither a port nor a `low-high` range of ports.
    #[error("{entry:?} is not a port (1-65535) or a range of ports (low-high)")]
    NotAPort {
        /// The entry as written.
        entry: String,
    },
    /// A range whose end comes before its start.
    #[error("{entry:?} is a range whose end is below its start")]
    Reversed {
        /// The entry as written.
        entry: String,
    },
}

impl PortSet {
    /// Linkerd's default opaque ports, [`LINKERD_DEFAULT_OPAQUE_PORTS`].
    pub fn linkerd_default_opaque() -> PortSet {
        LINKERD_DEFAULT_OPAQUE_PORTS.parse().unwrap_or_default()
    }

    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|range| range.contains(&port))
    }
}

impl FromStr for PortSet {
    type Err = InvalidPorts;

    /// Reads a comma-separated list of ports and ranges; blanks around
    /// entries and empty entries are allowed, as Linkerd allows them.
    fn from_str(list: &str) -> Result<Self, Self::Err> {
        let mut ranges = Vec::new();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let port = |text: &str| {
                text.trim()
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p != 0)
                    .ok_or_else(|| InvalidPorts::NotAPort {
                        entry: entry.to_string(),
                    })
            };
            let range = match entry.split_once('-') {
                Some((low, high)) => {
                    let (low, high) = (port(low)?, port(high)?);
                    if high < low {
                        return Err(InvalidPorts::Reversed {
                            entry: entry.to_string(),
                        });
                    }
                    low..=high
                }
                None => {
                    let single = port(entry)?;
                    single..=single
                }
            };
            ranges.push(range);
        }
        Ok(PortSet(ranges))
    }
}

impl fmt::Display for PortSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, range) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if range.start() == range.end() {
                write!(f, "{}", range.start())?;
            } else {
                write!(f, "{}-{}", range.start(), range.end())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
