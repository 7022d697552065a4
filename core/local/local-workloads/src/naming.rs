//! Names and small values the controllers make the way Kubernetes makes
//! them: template hashes, random name suffixes, owner lookups, timestamps.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::Pod;

/// The label the ReplicaSet controller puts on its Pods.
pub(crate) const POD_TEMPLATE_HASH: &str = "pod-template-hash";

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

/// The Deployment a Pod belongs to, read as the destination index reads it:
/// a controlling ReplicaSet owner whose name is the Deployment's plus the
/// Pod's `pod-template-hash`.
pub(crate) fn deployment_of(pod: &Pod) -> Option<String> {
    let owner = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .find(|o| o.controller == Some(true) && o.kind == "ReplicaSet")?;
    let hash = pod.metadata.labels.as_ref()?.get(POD_TEMPLATE_HASH)?;
    owner
        .name
        .strip_suffix(hash.as_str())
        .and_then(|d| d.strip_suffix('-'))
        .filter(|d| !d.is_empty())
        .map(str::to_string)
}

/// Now, as Kubernetes writes times (RFC 3339, seconds, UTC).
pub(crate) fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    rfc3339(secs)
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (the civil-from-days
/// algorithm, proleptic Gregorian).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
