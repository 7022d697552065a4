//! Choosing the route of a request, with Gateway API precedence as
//! Linkerd's proxy applies it: among the routes that match, the most
//! specific match wins (exact path, then regular expression, then the
//! longest prefix; then a method; then more headers; then more query
//! parameters); ties go to the route listed first.

use std::cmp::Ordering;

use http::HeaderMap;

use super::{HeaderValueMatch, HostMatch, PathMatch, PortPolicy, Route, RouteMatch};

/// What a request offers to route matching.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestParts<'a> {
    pub method: &'a http::Method,
    pub path: &'a str,
    pub query: Option<&'a str>,
    /// The host, without port, in any case.
    pub host: Option<&'a str>,
    pub headers: &'a HeaderMap,
}

/// How specific a match is; greater wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Specificity {
    /// 3 exact, 2 regex, 1 prefix, 0 no path constraint.
    path_kind: u8,
    path_len: usize,
    method: bool,
    headers: usize,
    query_params: usize,
}

impl PortPolicy {
    /// The route a request takes; `None` when no route matches (404).
    pub(crate) fn route_for(&self, request: &RequestParts<'_>) -> Option<&Route> {
        let mut best: Option<(&Route, Specificity)> = None;
        for route in &self.http_routes {
            let Some(specificity) = route_specificity(route, request) else {
                continue;
            };
            let better = match &best {
                None => true,
                Some((_, current)) => specificity.cmp(current) == Ordering::Greater,
            };
            if better {
                best = Some((route, specificity));
            }
        }
        best.map(|(route, _)| route)
    }
}

fn route_specificity(route: &Route, request: &RequestParts<'_>) -> Option<Specificity> {
    if !route.hosts.is_empty() {
        let host = request.host?;
        if !route.hosts.iter().any(|h| host_matches(h, host)) {
            return None;
        }
    }
    if route.matches.is_empty() {
        return Some(Specificity {
            path_kind: 0,
            path_len: 0,
            method: false,
            headers: 0,
            query_params: 0,
        });
    }
    route
        .matches
        .iter()
        .filter_map(|m| match_specificity(m, request))
        .max()
}

fn host_matches(rule: &HostMatch, host: &str) -> bool {
    let host = host.trim_end_matches('.');
    match rule {
        HostMatch::Exact(name) => host.eq_ignore_ascii_case(name),
        HostMatch::Suffix(suffix) => {
            host.len() > suffix.len() + 1
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
                && host.as_bytes()[host.len() - suffix.len()..]
                    .eq_ignore_ascii_case(suffix.as_bytes())
        }
    }
}

fn match_specificity(m: &RouteMatch, request: &RequestParts<'_>) -> Option<Specificity> {
    let (path_kind, path_len) = match &m.path {
        None => (0, 0),
        Some(PathMatch::Exact(p)) => (request.path == p).then_some((3, p.len()))?,
        Some(PathMatch::Regex(re)) => re
            .is_match(request.path)
            .then_some((2, re.as_str().len()))?,
        Some(PathMatch::Prefix(p)) => prefix_matches(p, request.path).then_some((1, p.len()))?,
    };
    if let Some(method) = &m.method
        && method != request.method
    {
        return None;
    }
    for header in &m.headers {
        let found = request
            .headers
            .get_all(&header.name)
            .iter()
            .any(|v| value_matches(&header.value, v.as_bytes()));
        if !found {
            return None;
        }
    }
    for param in &m.query_params {
        let found = query_pairs(request.query).any(|(name, value)| {
            name == param.name && value_matches(&param.value, value.as_bytes())
        });
        if !found {
            return None;
        }
    }
    Some(Specificity {
        path_kind,
        path_len,
        method: m.method.is_some(),
        headers: m.headers.len(),
        query_params: m.query_params.len(),
    })
}

/// Prefixes match whole segments: `/foo` matches `/foo` and `/foo/bar`,
/// not `/foobar`; `/` and `/foo/` match everything under them.
fn prefix_matches(prefix: &str, path: &str) -> bool {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

fn value_matches(rule: &HeaderValueMatch, value: &[u8]) -> bool {
    match rule {
        HeaderValueMatch::Exact(exact) => exact == value,
        HeaderValueMatch::Regex(re) => std::str::from_utf8(value).is_ok_and(|v| re.is_match(v)),
    }
}

fn query_pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}
