//! Reading Prometheus' text format as tests read a proxy's `/metrics`:
//! the sum of a family's series that carry given labels, how much each
//! grew between two readings, and whether a client was served
//! throughout a change, judged from its own proxy.

/// The sum of `family`'s series in `text` whose labels include every one
/// of `having` (each written as in the text, `client_id="..."`).
pub fn sum(text: &str, family: &str, having: &[&str]) -> f64 {
    series(text, family, having).fold(0.0, |total, (_, value)| total + value)
}

/// `family`'s series in `text` whose labels include every one of
/// `having`: the text between the braces (read one with [`label`]), and
/// the value.
pub fn series<'a>(
    text: &'a str,
    family: &str,
    having: &[&str],
) -> impl Iterator<Item = (&'a str, f64)> {
    let start = format!("{family}{{");
    text.lines()
        .filter_map(move |line| {
            let rest = line.strip_prefix(start.as_str())?;
            let (labels, value) = rest.rsplit_once("} ")?;
            Some((labels, value.split_whitespace().next()?.parse().ok()?))
        })
        .filter(move |(labels, _)| having.iter().all(|label| labels.contains(label)))
}

/// How much each of `family`'s series with every label of `having` grew
/// from `before` to `after`, for those that grew: a series absent before,
/// or lower after (its counter was made again), counts from zero.
pub fn increases<'a>(
    before: &str,
    after: &'a str,
    family: &str,
    having: &[&str],
) -> Vec<(&'a str, f64)> {
    let earlier: Vec<(&str, f64)> = series(before, family, having).collect();
    series(after, family, having)
        .filter_map(|(labels, now)| {
            let then = earlier
                .iter()
                .find(|(l, _)| *l == labels)
                .map_or(0.0, |(_, v)| *v);
            let grown = if now >= then { now - then } else { now };
            (grown > 0.0).then_some((labels, grown))
        })
        .collect()
}

/// The value of label `name` in `labels` (the text between a series'
/// braces, as [`increases`] gives it).
pub fn label<'a>(labels: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = labels;
    while !rest.is_empty() {
        let (key, after_key) = rest.split_once("=\"")?;
        let mut end = None;
        let mut escaped = false;
        for (at, c) in after_key.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(at);
                    break;
                }
                _ => {}
            }
        }
        let end = end?;
        if key == name {
            return Some(&after_key[..end]);
        }
        rest = after_key[end + 1..].trim_start_matches(',');
    }
    None
}

/// The `/metrics` of a client's proxy and of its server's proxy, read at
/// one moment.
#[derive(Clone, Debug, Default)]
pub struct Readings {
    /// The client's proxy: its outbound side sees every answer the client
    /// got, the server's refusals and its own proxy's errors alike.
    pub client: String,
    /// The server's proxy: its authorization counters name the client.
    pub server: String,
}

/// Whether the client with mesh identity `client_id` was served
/// throughout from `before` to `after`, as the client sees it: every
/// answer its proxy passed on was a 2xx (a refusal by the server, a 403,
/// or an error of either proxy, a 502 or 503, is not), its proxy answered
/// nothing itself (`outbound_http_errors_total`), the server's proxy
/// refused none of its requests or connections, and at least one request
/// was answered. The number answered with a 2xx, or every failure seen.
///
/// The server's own success rate cannot say this: a request its proxy
/// refuses never reaches its `response_total`, and one the client's proxy
/// fails never reaches the server at all.
pub fn served_throughout(
    before: &Readings,
    after: &Readings,
    client_id: &str,
) -> Result<f64, String> {
    let mut failures = Vec::new();
    let mut answered = 0.0;
    let outbound = ["direction=\"outbound\""];
    for (labels, grown) in increases(&before.client, &after.client, "response_total", &outbound) {
        let status = label(labels, "status_code").unwrap_or("none");
        if status.starts_with('2') {
            answered += grown;
        } else {
            failures.push(format!(
                "{grown} answered {status} ({}) to {}",
                label(labels, "classification").unwrap_or("unclassified"),
                label(labels, "authority").unwrap_or("no authority"),
            ));
        }
    }
    // What the client's proxy answered itself reached no endpoint, so no
    // `response_total` series.
    for (labels, grown) in increases(
        &before.client,
        &after.client,
        "outbound_http_errors_total",
        &[],
    ) {
        failures.push(format!(
            "{grown} answered by the client's own proxy ({})",
            label(labels, "error").unwrap_or("no error label"),
        ));
    }
    let client = format!("client_id=\"{client_id}\"");
    for family in [
        "inbound_http_authz_deny_total",
        "inbound_tcp_authz_deny_total",
    ] {
        for (labels, grown) in increases(&before.server, &after.server, family, &[&client]) {
            failures.push(format!(
                "{grown} refused by the server's proxy ({family}, plugin version {})",
                label(labels, "plugin_version").unwrap_or("none"),
            ));
        }
    }
    if answered == 0.0 && failures.is_empty() {
        failures.push("no request answered at all".to_string());
    }
    if failures.is_empty() {
        Ok(answered)
    } else {
        Err(format!(
            "{client_id} was not served throughout: {}",
            failures.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests;
