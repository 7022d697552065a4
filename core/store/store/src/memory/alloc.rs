//! ClusterIP allocation, as the API server does for Services.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

/// Hands out addresses of a service range, never the network or broadcast
/// address, never one in use.
#[derive(Debug)]
pub(crate) struct ClusterIps {
    base: u32,
    size: u32,
    next: u32,
    used: BTreeSet<u32>,
}

impl ClusterIps {
    /// A range such as 10.96.0.0/12.
    pub(crate) fn new(network: Ipv4Addr, prefix_len: u8) -> Self {
        let size = 1u32
            .checked_shl(32 - u32::from(prefix_len.min(30)))
            .unwrap_or(u32::MAX);
        ClusterIps {
            base: u32::from(network) & !(size - 1),
            size,
            next: 1,
            used: BTreeSet::new(),
        }
    }

    /// Records an address given explicitly (or loaded from disk).
    pub(crate) fn reserve(&mut self, ip: &str) {
        if let Ok(ip) = ip.parse::<Ipv4Addr>() {
            let offset = u32::from(ip).wrapping_sub(self.base);
            if offset < self.size {
                self.used.insert(offset);
            }
        }
    }

    /// Frees an address when its Service goes.
    pub(crate) fn release(&mut self, ip: &str) {
        if let Ok(ip) = ip.parse::<Ipv4Addr>() {
            self.used.remove(&u32::from(ip).wrapping_sub(self.base));
        }
    }

    /// The next free address, or `None` when the range is exhausted.
    pub(crate) fn allocate(&mut self) -> Option<Ipv4Addr> {
        let usable = self.size.saturating_sub(2);
        for _ in 0..usable {
            let offset = self.next;
            self.next = if self.next >= usable {
                1
            } else {
                self.next + 1
            };
            if self.used.insert(offset) {
                return Some(Ipv4Addr::from(self.base + offset));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests;
