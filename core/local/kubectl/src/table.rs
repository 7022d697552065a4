//! kubectl's table output: left-aligned columns three spaces apart, and
//! ages as kubectl prints them (`114s`, `5m12s`, `3h`, `2d`).

use std::time::{SystemTime, UNIX_EPOCH};

/// Ages are rendered as the local API server renders them in its tables.
pub use strait_apiserver::table::{age, human_duration};

/// Renders rows under a header, each column as wide as its widest cell plus
/// three spaces; the last column is not padded.
pub fn render(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(width) = widths.get_mut(i) {
                *width = (*width).max(cell.chars().count());
            }
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let last = row.len().saturating_sub(1);
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i < last {
                let width = widths.get(i).copied().unwrap_or(0);
                out.push_str(&" ".repeat(width - cell.chars().count() + 3));
            }
        }
        out.push('\n');
    }
    out
}

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests;
