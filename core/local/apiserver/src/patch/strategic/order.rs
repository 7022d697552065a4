//! The order of a merged list, as the API server's strategic merge patch
//! leaves it: the patch's elements in the patch's (or `$setElementOrder`'s)
//! order, and the server's other elements interleaved where they stood in
//! the live list, so that a patch naming a few elements does not reshuffle
//! the rest.

use serde_json::Value;

use super::super::json_equal;

/// What identifies an element: its merge key's value, or the whole value
/// in a list of scalars.
fn identity<'a>(item: &'a Value, key: Option<&str>) -> Option<&'a Value> {
    match key {
        Some(key) => item.get(key),
        None => Some(item),
    }
}

/// Where an element with `item`'s identity stands in `list`.
pub(super) fn position(list: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    let wanted = identity(item, key)?;
    list.iter().position(|candidate| {
        identity(candidate, key).is_some_and(|found| json_equal(found, wanted))
    })
}

/// Merges `server_only` (sorted by the live order) into `patched` (sorted
/// by the patch's order), keeping both relative orders: a server element
/// goes before the next patch element when the live list had it before
/// that element, as `mergeSortedSlice` in Kubernetes does.
pub(super) fn merge_sorted(
    server_only: Vec<Value>,
    patched: Vec<Value>,
    server_order: &[Value],
    key: Option<&str>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(server_only.len() + patched.len());
    let mut left = server_only.into_iter().peekable();
    let mut right = patched.into_iter().peekable();
    loop {
        match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => out.extend(left.by_ref()),
            (None, Some(_)) => out.extend(right.by_ref()),
            (Some(l), Some(r)) => {
                let server_first = matches!(
                    (position(server_order, l, key), position(server_order, r, key)),
                    (Some(li), Some(ri)) if li < ri
                );
                if server_first {
                    out.extend(left.next());
                } else {
                    out.extend(right.next());
                }
            }
        }
    }
    out
}
