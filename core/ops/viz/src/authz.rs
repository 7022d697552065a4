//! `viz authz`: per route, server and authorization, the requests refused
//! and admitted and the responses to them.
//!
//! strait's proxies put `authz_*` labels on `inbound_http_authz_allow_total`
//! only; `response_total`, `response_latency_ms` and
//! `inbound_http_authz_deny_total` carry the server (`srv_*`) and route
//! (`route_*`) but no authorization. So:
//!
//! * a row per `(server, route, authorization)` of the allow counter, whose
//!   RPS is the allow counter's rate (the requests that authorization
//!   admitted), and whose SUCCESS and latencies are those of the responses
//!   of its server and route (an authorization is the only one admitting
//!   a route's traffic in practice, so these are its responses);
//! * a row per `(server, route)` of the deny counter, with an empty
//!   AUTHORIZATION, whose UNAUTHORIZED is the deny counter's rate and whose
//!   other columns are zero, as Linkerd prints its denial rows.
//!
//! As in Linkerd's viz, a row without requests in the window is left out
//! when it is a denial or a default authorization, and printed with `-`
//! otherwise (an authorization that exists but admitted nothing).

use std::collections::{BTreeMap, BTreeSet};

use crate::quantile::{histogram_quantile, latency_ms};
use crate::scrapes::{PodRef, PodWindow, bucket_bound, row_key};
use crate::stat::success_rate;
use crate::{PodScrapes, Query, Sample};

/// One row of `viz authz`.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthzRow {
    /// The route's name (`route_name`), e.g. `default` or `probe`.
    pub route: String,
    /// The server's kind (`srv_kind`): `server`, or `default` for a
    /// default policy.
    pub server_kind: String,
    /// The server's name (`srv_name`).
    pub server_name: String,
    /// The authorization's kind (`authz_kind`), empty on a denial row.
    pub authz_kind: String,
    /// The authorization's name (`authz_name`), empty on a denial row.
    pub authz_name: String,
    /// Requests refused per second.
    pub unauthorized_rate: f64,
    /// Successful responses over all responses, 0 to 1.
    pub success_rate: f64,
    /// Requests admitted per second.
    pub request_rate: f64,
    /// Median latency, in whole milliseconds.
    pub latency_ms_p50: u64,
    /// 95th percentile latency, in whole milliseconds.
    pub latency_ms_p95: u64,
    /// 99th percentile latency, in whole milliseconds.
    pub latency_ms_p99: u64,
    /// Whether any request was admitted or refused in the window; rows
    /// without print `-` in every number column.
    pub has_traffic: bool,
    /// The authz plugin versions that made the row's decisions in the
    /// window (the `plugin_version` label), sorted; several across a hot
    /// swap. Printed by `-o wide`.
    pub plugin_versions: Vec<String>,
}

impl AuthzRow {
    /// SERVER as printed: the name, prefixed `default:` for default
    /// policies so they cannot be taken for a Server resource.
    pub fn server(&self) -> String {
        if self.server_kind == "default" {
            format!("default:{}", self.server_name)
        } else {
            self.server_name.clone()
        }
    }

    /// AUTHORIZATION as printed: `<kind>/<name>`, empty on denial rows.
    pub fn authorization(&self) -> String {
        if self.authz_kind.is_empty() && self.authz_name.is_empty() {
            String::new()
        } else {
            format!("{}/{}", self.authz_kind, self.authz_name)
        }
    }
}

/// A server and route: what responses, latencies and denials are keyed by.
pub(crate) type SrvRoute = (String, String, String);
/// An authorization's kind and name.
pub(crate) type AuthzRef = (String, String);

/// The inputs of `viz authz`, per source: rates of the deny and allow
/// counters, response counts and latency quantiles by server and route.
#[derive(Default)]
pub(crate) struct AuthzData {
    pub deny: BTreeMap<SrvRoute, f64>,
    pub allow: BTreeMap<(SrvRoute, AuthzRef), f64>,
    /// The plugin versions behind the denials of a server and route.
    pub deny_versions: BTreeMap<SrvRoute, BTreeSet<String>>,
    /// The plugin versions behind an authorization's admissions.
    pub allow_versions: BTreeMap<(SrvRoute, AuthzRef), BTreeSet<String>>,
    /// Success and failure counts.
    pub responses: BTreeMap<SrvRoute, (f64, f64)>,
    /// p50, p95 and p99 in milliseconds.
    pub latencies: BTreeMap<SrvRoute, [u64; 3]>,
}

pub(crate) fn srv_route(labels: &BTreeMap<String, String>) -> SrvRoute {
    let get = |name: &str| labels.get(name).cloned().unwrap_or_default();
    (get("srv_kind"), get("srv_name"), get("route_name"))
}

pub(crate) fn authz_ref(labels: &BTreeMap<String, String>) -> AuthzRef {
    let get = |name: &str| labels.get(name).cloned().unwrap_or_default();
    (get("authz_kind"), get("authz_name"))
}

/// The plugin version a decision series names, if it names one.
pub(crate) fn plugin_version(labels: &BTreeMap<String, String>) -> Option<String> {
    labels
        .get(PLUGIN_VERSION)
        .filter(|v| !v.is_empty())
        .cloned()
}

/// The label of the decision counters naming the authz plugin version.
pub(crate) const PLUGIN_VERSION: &str = "plugin_version";

impl AuthzData {
    /// Notes that `version`, if any, made decisions counted under `key`
    /// when `increase` is positive (a version that decided nothing in the
    /// window is not shown).
    pub fn deny_version(&mut self, key: &SrvRoute, version: Option<String>, increase: f64) {
        if let (Some(version), true) = (version, increase > 0.0) {
            self.deny_versions
                .entry(key.clone())
                .or_default()
                .insert(version);
        }
    }

    /// [`AuthzData::deny_version`] for an authorization's admissions.
    pub fn allow_version(
        &mut self,
        key: &(SrvRoute, AuthzRef),
        version: Option<String>,
        increase: f64,
    ) {
        if let (Some(version), true) = (version, increase > 0.0) {
            self.allow_versions
                .entry(key.clone())
                .or_default()
                .insert(version);
        }
    }

    /// The rows, sorted by server, route and authorization as printed.
    pub fn rows(mut self) -> Vec<AuthzRow> {
        let mut rows = Vec::new();
        for ((srv_kind, srv_name, route), rate) in std::mem::take(&mut self.deny) {
            if rate <= 0.0 {
                continue;
            }
            let key = (srv_kind.clone(), srv_name.clone(), route.clone());
            let plugin_versions = self
                .deny_versions
                .remove(&key)
                .unwrap_or_default()
                .into_iter()
                .collect();
            rows.push(AuthzRow {
                route,
                server_kind: srv_kind,
                server_name: srv_name,
                authz_kind: String::new(),
                authz_name: String::new(),
                unauthorized_rate: rate,
                success_rate: 0.0,
                request_rate: 0.0,
                latency_ms_p50: 0,
                latency_ms_p95: 0,
                latency_ms_p99: 0,
                has_traffic: true,
                plugin_versions,
            });
        }
        for ((key, (authz_kind, authz_name)), rate) in std::mem::take(&mut self.allow) {
            let has_traffic = rate > 0.0;
            if !has_traffic && authz_kind == "default" {
                continue;
            }
            let plugin_versions = self
                .allow_versions
                .remove(&(key.clone(), (authz_kind.clone(), authz_name.clone())))
                .unwrap_or_default()
                .into_iter()
                .collect();
            let (success, failure) = self.responses.get(&key).copied().unwrap_or_default();
            let [p50, p95, p99] = self.latencies.get(&key).copied().unwrap_or_default();
            let (srv_kind, srv_name, route) = key;
            rows.push(AuthzRow {
                route,
                server_kind: srv_kind,
                server_name: srv_name,
                authz_kind,
                authz_name,
                unauthorized_rate: 0.0,
                success_rate: success_rate(success, failure),
                request_rate: rate,
                latency_ms_p50: p50,
                latency_ms_p95: p95,
                latency_ms_p99: p99,
                has_traffic,
                plugin_versions,
            });
        }
        rows.sort_by_cached_key(|r| (r.server(), r.route.clone(), r.authorization()));
        rows
    }
}

/// Whether a pod's traffic belongs to the query.
pub(crate) fn selects(query: &Query, pod: &PodScrapes) -> bool {
    row_key(
        query.namespace.as_deref(),
        query.resource,
        query.name.as_deref(),
        &PodRef::of_scrapes(pod),
    )
    .is_some()
}

/// `viz authz` from kept scrapes: the increases between the oldest and the
/// newest scrape of each selected pod in the window, summed over pods
/// (rates divide each pod's increases by the time between its scrapes).
/// Rows come from the allow and deny series present in the newest
/// scrapes; see the module documentation for those without traffic.
pub fn authz_from_scrapes(query: &Query, pods: &[PodScrapes]) -> Vec<AuthzRow> {
    let mut data = AuthzData::default();
    let mut buckets: BTreeMap<SrvRoute, Vec<(f64, f64)>> = BTreeMap::new();
    for pod in pods.iter().filter(|pod| selects(query, pod)) {
        let Some(window) = PodWindow::new(pod) else {
            continue;
        };
        let rate = |increase: f64| increase / window.span;
        for (sample, increase) in window.increases("inbound_http_authz_deny_total") {
            let key = srv_route(&sample.labels);
            data.deny_version(&key, plugin_version(&sample.labels), increase);
            *data.deny.entry(key).or_default() += rate(increase);
        }
        for (sample, increase) in window.increases("inbound_http_authz_allow_total") {
            let key = (srv_route(&sample.labels), authz_ref(&sample.labels));
            data.allow_version(&key, plugin_version(&sample.labels), increase);
            *data.allow.entry(key).or_default() += rate(increase);
        }
        for (sample, increase) in window.increases("response_total") {
            let counts = data.responses.entry(srv_route(&sample.labels)).or_default();
            match Sample::label(sample, "classification") {
                "success" => counts.0 += increase,
                "failure" => counts.1 += increase,
                _ => {}
            }
        }
        for (sample, increase) in window.increases("response_latency_ms_bucket") {
            if let Some(le) = bucket_bound(sample) {
                buckets
                    .entry(srv_route(&sample.labels))
                    .or_default()
                    .push((le, increase));
            }
        }
    }
    for (key, buckets) in buckets {
        let quantile = |q| latency_ms(histogram_quantile(q, &buckets));
        data.latencies
            .insert(key, [quantile(0.5), quantile(0.95), quantile(0.99)]);
    }
    data.rows()
}

#[cfg(test)]
mod tests;
