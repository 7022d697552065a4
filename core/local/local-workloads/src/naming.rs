//! Names and small values the controllers make the way Kubernetes makes
//! them: template hashes and random name suffixes.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The characters Kubernetes uses in generated names: no vowels (no words)
/// and no look-alike characters.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// The `pod-template-hash` of a template: FNV-1a (32 bits) of its JSON,
/// written with Kubernetes' safe encoding, so equal templates always give
/// the same ReplicaSet name and any change gives a new one.
pub(crate) fn template_hash(template: &serde_json::Value) -> String {
    let text = template.to_string();
    let mut hash: u32 = 0x811c_9dc5;
    for byte in text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    safe_encode(&hash.to_string())
}

/// Kubernetes' `SafeEncodeString`: each byte mapped into [`ALPHANUMS`].
fn safe_encode(text: &str) -> String {
    text.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// `len` random characters of [`ALPHANUMS`], as `generateName` appends.
pub(crate) fn random_suffix(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut out = String::with_capacity(len);
    let mut bits = 0u64;
    for i in 0..len {
        if i % 8 == 0 {
            // A fresh randomly keyed hasher per draw: std's own randomness,
            // enough for names that only need to differ.
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            hasher.write_u128(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or_default(),
            );
            bits = hasher.finish();
        }
        let index = usize::try_from(bits % ALPHANUMS.len() as u64).unwrap_or(0);
        out.push(char::from(ALPHANUMS[index]));
        bits /= ALPHANUMS.len() as u64;
    }
    out
}

#[cfg(test)]
mod tests;
