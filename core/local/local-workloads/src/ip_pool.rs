//! Pod addresses: one flat network of loopback addresses shared by every
//! cluster, so a Pod of one cluster reaches a Pod of another directly, as
//! the pod-to-pod guide's flat network requires.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use parking_lot::Mutex;

/// The first address handed out: 127.1.0.1. 127.0.0.1 is never handed out,
/// since everything else on the machine listens there.
const FIRST: u32 = u32::from_be_bytes([127, 1, 0, 1]);
/// The last address handed out: 127.1.255.254.
const LAST: u32 = u32::from_be_bytes([127, 1, 255, 254]);
/// The block stable addresses come from: 127.1.255.1 to 127.1.255.254,
/// the end of the range, which the sequential order reaches last.
const STABLE_FIRST: u32 = u32::from_be_bytes([127, 1, 255, 1]);
/// How many addresses the stable block holds.
const STABLE_COUNT: u32 = 254;
/// The block named Pods' addresses come from: 127.1.192.0 to
/// 127.1.254.255 (host parts 0 and 255 left out), apart from the stable
/// block so a StatefulSet's Pods never take a gateway's address, and far
/// into the range so the sequential order reaches it late.
const NAMED_FIRST: u32 = u32::from_be_bytes([127, 1, 192, 0]);
/// How many /24s the named block spans.
const NAMED_BLOCKS: u32 = 63;

/// Hands out Pod addresses from 127.1.0.0/16. Cloning shares the pool.
///
/// Addresses are handed out in order and a released one is reused only
/// after the rest of the range, so a new Pod does not take over an address
/// whose sockets are still closing.
#[derive(Clone, Debug, Default)]
pub struct IpPool {
    inner: Arc<Mutex<Pool>>,
}

#[derive(Debug, Default)]
struct Pool {
    used: BTreeSet<u32>,
    /// The next address to try.
    next: u32,
}

impl IpPool {
    /// An empty pool: the first address is 127.1.0.1, then 127.1.0.2, ...
    pub fn new() -> Self {
        IpPool::default()
    }

    /// A free address, or `None` when the range is exhausted.
    pub fn allocate(&self) -> Option<IpAddr> {
        let mut pool = self.inner.lock();
        let start = pool.next.clamp(FIRST, LAST);
        let mut candidate = start;
        loop {
            let host = candidate & 0xff;
            if host != 0 && host != 255 && !pool.used.contains(&candidate) {
                pool.used.insert(candidate);
                pool.next = if candidate == LAST {
                    FIRST
                } else {
                    candidate + 1
                };
                return Some(IpAddr::V4(Ipv4Addr::from(candidate)));
            }
            candidate = if candidate == LAST {
                FIRST
            } else {
                candidate + 1
            };
            if candidate == start {
                return None;
            }
        }
    }

    /// A free address chosen by `key` alone, or the next free one when
    /// another key holds it: the same key gets the same address on every
    /// start. A gateway's address is written into Links, which must stay
    /// valid when `strait local up` starts again, whatever order Pods
    /// start in.
    pub fn allocate_stable(&self, key: &str) -> Option<IpAddr> {
        let start = fnv1a(key) % STABLE_COUNT;
        {
            let mut pool = self.inner.lock();
            for offset in 0..STABLE_COUNT {
                let candidate = STABLE_FIRST + (start + offset) % STABLE_COUNT;
                if pool.used.insert(candidate) {
                    return Some(IpAddr::V4(Ipv4Addr::from(candidate)));
                }
            }
        }
        self.allocate()
    }

    /// A free address chosen by a Pod's name (`key`) alone, or the next
    /// free one when another Pod holds it: a StatefulSet's Pod keeps its
    /// address when it is made again and on every start, as its name is
    /// what clients know it by. Drawn from a block of its own, so named
    /// Pods never take a gateway's stable address.
    pub fn allocate_named(&self, key: &str) -> Option<IpAddr> {
        let slots = NAMED_BLOCKS * 254;
        let start = fnv1a(key) % slots;
        {
            let mut pool = self.inner.lock();
            for offset in 0..slots {
                let slot = (start + offset) % slots;
                let candidate = NAMED_FIRST + (slot / 254) * 256 + slot % 254 + 1;
                if pool.used.insert(candidate) {
                    return Some(IpAddr::V4(Ipv4Addr::from(candidate)));
                }
            }
        }
        self.allocate()
    }

    /// Gives `ip` back; releasing an address not handed out does nothing.
    pub fn release(&self, ip: IpAddr) {
        if let IpAddr::V4(v4) = ip {
            self.inner.lock().used.remove(&u32::from(v4));
        }
    }

    /// Whether `ip` is handed out now, to check that a Pod gave its back.
    pub fn is_allocated(&self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(v4) => self.inner.lock().used.contains(&u32::from(v4)),
            IpAddr::V6(_) => false,
        }
    }

    /// How many addresses are handed out, to check that Pods give theirs back.
    pub fn in_use(&self) -> usize {
        self.inner.lock().used.len()
    }
}

/// FNV-1a of `key`: stable across Rust releases, unlike the std hasher, so
/// a key gets the same address from one build to the next.
fn fnv1a(key: &str) -> u32 {
    key.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

#[cfg(test)]
mod tests;
