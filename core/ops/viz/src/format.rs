//! Printing rows as Linkerd's viz prints them: `viz stat` through Go's
//! `tabwriter` (right-aligned, padding 3, first column's padding
//! stripped), `viz authz` through Linkerd's `pkg/table` (flexible columns,
//! two spaces after every cell), and both as JSON for `-o json`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::{AuthzRow, Output, Query, ResourceKind, StatRow};

/// What Linkerd prints when a query matches nothing.
pub const NO_TRAFFIC: &str = "No traffic found.\n";

/// The padding of `viz stat`'s tabwriter.
const STAT_PADDING: usize = 3;

/// The spacing after every cell of `viz authz`'s table.
const AUTHZ_SPACING: &str = "  ";

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad_right(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

/// Go's `tabwriter` with `AlignRight` over rows of cells each ended by a
/// tab: every column as wide as its widest cell plus `padding`, text
/// pushed right. Linkerd then strips the padding before the first column
/// of every line, which is done here too.
fn tabwriter_right(lines: &[Vec<String>], padding: usize) -> String {
    let columns = lines.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            lines
                .iter()
                .filter_map(|cells| cells.get(c))
                .map(|cell| width(cell))
                .max()
                .unwrap_or(0)
                + padding
        })
        .collect();
    let mut out = String::new();
    for cells in lines {
        let mut line = String::new();
        for (cell, width_) in cells.iter().zip(&widths) {
            line.push_str(&" ".repeat(width_ - width(cell)));
            line.push_str(cell);
        }
        out.push_str(line.get(padding.min(line.len())..).unwrap_or(""));
        out.push('\n');
    }
    out
}

/// Prints `viz stat` rows: a table (with NAMESPACE when the rows span
/// namespaces, STATUS for pods), the table with Linkerd's wide columns
/// (`READ_BYTES/SEC`, `WRITE_BYTES/SEC`), or a JSON array with Linkerd's
/// field names. Rows without traffic print `-`; no rows print
/// "No traffic found." (`[]` in JSON). [`format_stat_for`] shows the
/// NAMESPACE column for every all-namespaces query, as `-A` does.
pub fn format_stat(rows: &[StatRow], output: Output) -> String {
    let all_namespaces = rows.iter().any(|r| r.namespace != rows[0].namespace);
    stat_table(rows, output, all_namespaces)
}

/// [`format_stat`] for the answer to `query`: with the NAMESPACE column
/// whenever the query spans all namespaces, even if the rows happen to
/// share one, as Linkerd's `-A` prints it.
pub fn format_stat_for(query: &Query, rows: &[StatRow], output: Output) -> String {
    // A namespace's row is named by its namespace already.
    let all_namespaces = query.resource != ResourceKind::Namespace
        && (query.namespace.is_none() || rows.iter().any(|r| r.namespace != rows[0].namespace));
    stat_table(rows, output, all_namespaces)
}

fn stat_table(rows: &[StatRow], output: Output, all_namespaces: bool) -> String {
    if output == Output::Json {
        return stat_json(rows);
    }
    if rows.is_empty() {
        return NO_TRAFFIC.to_owned();
    }
    let pods = rows.iter().any(|r| r.kind == ResourceKind::Pod);
    let wide = output == Output::Wide;
    let name_width = rows.iter().map(|r| width(&r.name)).fold(4, usize::max);
    let ns_width = rows.iter().map(|r| width(&r.namespace)).fold(9, usize::max);

    let mut header = Vec::new();
    if all_namespaces {
        header.push(pad_right("NAMESPACE", ns_width));
    }
    header.push(pad_right("NAME", name_width));
    if pods {
        header.push("STATUS".to_owned());
    }
    for title in [
        "MESHED",
        "SUCCESS",
        "RPS",
        "LATENCY_P50",
        "LATENCY_P95",
        "LATENCY_P99",
        "TCP_CONN",
    ] {
        header.push(title.to_owned());
    }
    if wide {
        header.push("READ_BYTES/SEC".to_owned());
        header.push("WRITE_BYTES/SEC".to_owned());
    }
    let mut lines = vec![header];
    for row in rows {
        let mut cells = Vec::new();
        if all_namespaces {
            cells.push(pad_right(&row.namespace, ns_width));
        }
        cells.push(pad_right(&row.name, name_width));
        if pods {
            cells.push(row.status.clone().unwrap_or_default());
        }
        cells.push(row.meshed());
        match &row.stats {
            Some(stats) => {
                cells.push(format!("{:.2}%", stats.success_rate * 100.0));
                cells.push(format!("{:.1}rps", stats.request_rate));
                cells.push(format!("{}ms", stats.latency_ms_p50));
                cells.push(format!("{}ms", stats.latency_ms_p95));
                cells.push(format!("{}ms", stats.latency_ms_p99));
                cells.push(stats.tcp_open_connections.to_string());
                if wide {
                    cells.push(format!("{:.1}B/s", stats.tcp_read_bytes_rate));
                    cells.push(format!("{:.1}B/s", stats.tcp_write_bytes_rate));
                }
            }
            None => {
                let dashes = if wide { 8 } else { 6 };
                cells.extend(std::iter::repeat_n("-".to_owned(), dashes));
            }
        }
        lines.push(cells);
    }
    tabwriter_right(&lines, STAT_PADDING)
}

/// One entry of `viz stat -o json`, with Linkerd's field names; traffic
/// fields are `null` for rows without traffic.
#[derive(Serialize)]
struct StatJson<'a> {
    namespace: &'a str,
    kind: &'a str,
    name: &'a str,
    meshed: String,
    success: Option<Value>,
    rps: Option<Value>,
    latency_ms_p50: Option<u64>,
    latency_ms_p95: Option<u64>,
    latency_ms_p99: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_open_connections: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_read_bytes_rate: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tcp_write_bytes_rate: Option<Value>,
}

/// A number as Go's `encoding/json` writes it: whole values without a
/// fraction (`1`, not `1.0`), others in their shortest form; `null` for
/// NaN and infinities, which JSON cannot hold.
pub(crate) fn json_number(value: f64) -> Value {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        serde_json::Number::from_f64(value).map_or(Value::Null, Value::Number)
    }
}

fn stat_json(rows: &[StatRow]) -> String {
    let entries: Vec<StatJson<'_>> = rows
        .iter()
        .map(|row| {
            let stats = row.stats.as_ref();
            StatJson {
                namespace: &row.namespace,
                kind: row.kind.as_str(),
                name: &row.name,
                meshed: row.meshed(),
                success: stats.map(|s| json_number(s.success_rate)),
                rps: stats.map(|s| json_number(s.request_rate)),
                latency_ms_p50: stats.map(|s| s.latency_ms_p50),
                latency_ms_p95: stats.map(|s| s.latency_ms_p95),
                latency_ms_p99: stats.map(|s| s.latency_ms_p99),
                tcp_open_connections: stats.map(|s| s.tcp_open_connections),
                tcp_read_bytes_rate: stats.map(|s| json_number(s.tcp_read_bytes_rate)),
                tcp_write_bytes_rate: stats.map(|s| json_number(s.tcp_write_bytes_rate)),
            }
        })
        .collect();
    to_json(&entries)
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and numbers cannot fail; NaN
    // and infinities become `null`.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_else(|_| "[]".to_owned());
    text.push('\n');
    text
}

/// The cells of one `viz authz` row, as Linkerd's viz formats them.
fn authz_cells(row: &AuthzRow) -> [String; 9] {
    let numbers = if row.has_traffic {
        [
            format!("{:.1}rps", row.unauthorized_rate),
            format!("{:.2}%", row.success_rate * 100.0),
            format!("{:.1}rps", row.request_rate),
            format!("{}ms", row.latency_ms_p50),
            format!("{}ms", row.latency_ms_p95),
            format!("{}ms", row.latency_ms_p99),
        ]
    } else {
        std::array::from_fn(|_| "-".to_owned())
    };
    let [unauthorized, success, rps, p50, p95, p99] = numbers;
    [
        row.route.clone(),
        row.server(),
        row.authorization(),
        unauthorized,
        success,
        rps,
        p50,
        p95,
        p99,
    ]
}

const AUTHZ_HEADERS: [&str; 9] = [
    "ROUTE",
    "SERVER",
    "AUTHORIZATION",
    "UNAUTHORIZED",
    "SUCCESS",
    "RPS",
    "LATENCY_P50",
    "LATENCY_P95",
    "LATENCY_P99",
];

/// Prints `viz authz` rows as Linkerd's table (left-aligned ROUTE, SERVER
/// and AUTHORIZATION, right-aligned numbers, two spaces after every cell,
/// the header alone when there are no rows), or as Linkerd's JSON
/// (`-o json`: one object per row, keys sorted, the lowercased headers
/// with latencies as `latency_ms_p50`..., numbers read back from the
/// printed cells, `-` cells left out). Wide is the table with strait's
/// PLUGIN_VERSION column last: the authz plugin versions that made the
/// row's decisions in the window (`-` when none is known).
pub fn format_authz(rows: &[AuthzRow], output: Output) -> String {
    let cells: Vec<[String; 9]> = rows.iter().map(authz_cells).collect();
    if output == Output::Json {
        return authz_json(&cells);
    }
    let wide = output == Output::Wide;
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(rows.len() + 1);
    let mut header: Vec<String> = AUTHZ_HEADERS.iter().map(|h| (*h).to_owned()).collect();
    if wide {
        header.push(PLUGIN_VERSION_HEADER.to_owned());
    }
    lines.push(header);
    for (row, cells) in rows.iter().zip(cells) {
        let mut line = cells.to_vec();
        if wide {
            line.push(if row.plugin_versions.is_empty() {
                "-".to_owned()
            } else {
                row.plugin_versions.join(",")
            });
        }
        lines.push(line);
    }
    let left_aligned = 3;
    let columns = lines[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| lines.iter().map(|line| width(&line[c])).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for line in &lines {
        for (c, cell) in line.iter().enumerate() {
            let fill = " ".repeat(widths[c] - width(cell));
            if c < left_aligned || c == AUTHZ_HEADERS.len() {
                out.push_str(cell);
                out.push_str(&fill);
            } else {
                out.push_str(&fill);
                out.push_str(cell);
            }
            out.push_str(AUTHZ_SPACING);
        }
        out.push('\n');
    }
    out
}

/// The column `viz authz -o wide` adds.
const PLUGIN_VERSION_HEADER: &str = "PLUGIN_VERSION";

/// Linkerd reads the printed cells back as 32-bit floats; their shortest
/// form is what it prints.
fn go_float32(value: f32) -> Value {
    format!("{value}")
        .parse::<f64>()
        .map_or(Value::Null, json_number)
}

fn authz_json(rows: &[[String; 9]]) -> String {
    let entries: Vec<Map<String, Value>> = rows
        .iter()
        .map(|cells| {
            let mut entry = Map::new();
            for (header, cell) in AUTHZ_HEADERS.iter().zip(cells) {
                if cell == "-" {
                    continue;
                }
                let field = header.to_lowercase();
                let value = if let Some(percentile) = field.strip_prefix("latency_") {
                    let value = cell
                        .strip_suffix("ms")
                        .and_then(|n| n.parse::<u64>().ok())
                        .map_or_else(|| Value::from(cell.as_str()), Value::from);
                    entry.insert(format!("latency_ms_{percentile}"), value);
                    continue;
                } else if field == "rps" || field == "unauthorized" {
                    cell.strip_suffix("rps")
                        .and_then(|n| n.parse::<f32>().ok())
                        .map_or_else(|| Value::from(cell.as_str()), go_float32)
                } else if field == "success" {
                    cell.strip_suffix('%')
                        .and_then(|n| n.parse::<f32>().ok())
                        .map_or_else(|| Value::from(cell.as_str()), |v| go_float32(v / 100.0))
                } else {
                    Value::from(cell.as_str())
                };
                entry.insert(field, value);
            }
            entry
        })
        .collect();
    to_json(&entries)
}

#[cfg(test)]
mod tests;
