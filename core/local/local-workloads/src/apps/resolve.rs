//! Where an unmeshed client's connections go, as kube-proxy and cluster DNS
//! would send them: a Service name to its ready endpoints, round robin; a
//! Pod's name under a Service (`web-0.web.<ns>.svc...`) to that Pod's.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use strait_store::{ClusterStore, Event, MemoryStore, WatchParams};
use tokio::sync::watch;

use super::Task;
use crate::endpoints::SERVICE_NAME_LABEL;
use crate::images::Url;

/// Where connections go.
#[derive(Debug)]
pub(crate) enum Dial {
    /// One address: the Pod's own proxy, or an IP address in the URL.
    Fixed(SocketAddr),
    /// The ready endpoints of a Service, kept current, taken in turn.
    Service {
        /// `name.namespace`, for messages.
        name: String,
        addrs: watch::Receiver<Vec<SocketAddr>>,
        next: AtomicUsize,
        _follow: Task,
    },
    /// A host (as the URL names it) that names no Service; every
    /// connection fails saying so.
    Unresolvable(String),
}

/// Why a connection has no address to go to.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum DialError {
    /// The Service exists in the URL's terms but has no ready endpoint.
    #[error("Service {service} has no ready endpoints")]
    NoEndpoints {
        /// `name.namespace`.
        service: String,
    },
    /// The URL's host is neither an address nor a Service name.
    #[error("{host} is neither an IP address nor a Service of this cluster")]
    Unresolvable {
        /// The host as the URL names it.
        host: String,
    },
}

impl Dial {
    /// How an unmeshed Pod in `namespace` reaches `url`.
    pub(crate) fn for_url(
        url: &Url,
        namespace: &str,
        cluster_domain: &str,
        store: &MemoryStore,
    ) -> Dial {
        if let Ok(ip) = url.host.parse::<IpAddr>() {
            return Dial::Fixed(SocketAddr::new(ip, url.port));
        }
        let Some(name) = service_of(&url.host, namespace, cluster_domain) else {
            return Dial::Unresolvable(url.host.clone());
        };
        let shown = match &name.hostname {
            Some(host) => format!("{host}.{}.{}", name.service, name.namespace),
            None => format!("{}.{}", name.service, name.namespace),
        };
        let (set, addrs) = watch::channel(Vec::new());
        let follow = Task(tokio::spawn(follow(store.clone(), name, url.port, set)));
        Dial::Service {
            name: shown,
            addrs,
            next: AtomicUsize::new(0),
            _follow: follow,
        }
    }

    /// The address for the next connection.
    pub(crate) fn next(&self) -> Result<SocketAddr, DialError> {
        match self {
            Dial::Fixed(addr) => Ok(*addr),
            Dial::Service {
                name, addrs, next, ..
            } => {
                let addrs = addrs.borrow();
                if addrs.is_empty() {
                    return Err(DialError::NoEndpoints {
                        service: name.clone(),
                    });
                }
                let i = next.fetch_add(1, Ordering::Relaxed) % addrs.len();
                Ok(addrs[i])
            }
            Dial::Unresolvable(host) => Err(DialError::Unresolvable { host: host.clone() }),
        }
    }
}

/// What a host names, as cluster DNS reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceName {
    pub(crate) service: String,
    pub(crate) namespace: String,
    /// The hostname of one of the Service's endpoints, for a Pod's name
    /// (`<hostname>.<svc>.<ns>.svc...`).
    pub(crate) hostname: Option<String>,
}

/// The Service, namespace and endpoint hostname a host names, as cluster
/// DNS reads `svc`, `svc.ns`, `svc.ns.svc`, `svc.ns.svc.<cluster domain>`
/// and, for one endpoint, `host.svc.ns.svc` and
/// `host.svc.ns.svc.<cluster domain>`.
pub(crate) fn service_of(host: &str, namespace: &str, cluster_domain: &str) -> Option<ServiceName> {
    let host = host.trim_end_matches('.');
    let parts: Vec<&str> = host.split('.').collect();
    let name = |svc: &str, ns: &str, hostname: Option<&str>| ServiceName {
        service: svc.to_string(),
        namespace: ns.to_string(),
        hostname: hostname.map(str::to_string),
    };
    let in_domain = |domain: &[&str]| domain.join(".") == cluster_domain;
    match parts.as_slice() {
        [svc] => Some(name(svc, namespace, None)),
        [svc, ns] | [svc, ns, "svc"] => Some(name(svc, ns, None)),
        [svc, ns, "svc", domain @ ..] if in_domain(domain) => Some(name(svc, ns, None)),
        [host, svc, ns, "svc"] => Some(name(svc, ns, Some(host))),
        [host, svc, ns, "svc", domain @ ..] if in_domain(domain) => Some(name(svc, ns, Some(host))),
        _ => None,
    }
    .filter(|n| {
        !n.service.is_empty()
            && !n.namespace.is_empty()
            && n.hostname.as_ref().is_none_or(|h| !h.is_empty())
    })
}

/// Follows the Service's EndpointSlices and publishes the ready addresses
/// of the Service port `port` (of the one endpoint with the name's
/// hostname, when it has one).
async fn follow(
    store: MemoryStore,
    name: ServiceName,
    port: u16,
    set: watch::Sender<Vec<SocketAddr>>,
) {
    let ServiceName {
        service,
        namespace,
        hostname,
    } = name;
    let mut params = WatchParams::labelled(SERVICE_NAME_LABEL, &service);
    params.namespace = Some(namespace.clone());
    let mut slices = store.watch::<EndpointSlice>(params);
    let mut known: BTreeMap<String, EndpointSlice> = BTreeMap::new();
    while let Some(event) = slices.next().await {
        match event {
            Ok(Event::Apply(slice)) => {
                known.insert(slice.metadata.name.clone().unwrap_or_default(), slice);
            }
            Ok(Event::Delete(slice)) => {
                known.remove(slice.metadata.name.as_deref().unwrap_or_default());
            }
            Ok(Event::Reset(all)) => {
                known = all
                    .into_iter()
                    .map(|s| (s.metadata.name.clone().unwrap_or_default(), s))
                    .collect();
            }
            Err(err) => {
                tracing::debug!(%service, %namespace, "endpoint watch: {err}");
                continue;
            }
        }
        let port_name = match store.get::<Service>(&namespace, &service).await {
            Ok(Some(svc)) => svc
                .spec
                .and_then(|s| s.ports)
                .into_iter()
                .flatten()
                .find(|p| p.port == i32::from(port))
                .map(|p| p.name.unwrap_or_default()),
            _ => None,
        };
        let addrs = port_name
            .map(|name| ready_addresses(known.values(), &name, hostname.as_deref()))
            .unwrap_or_default();
        set.send_replace(addrs);
    }
}

/// The ready addresses of the slices' port called `port_name`; with a
/// `hostname`, only those of the endpoint of that hostname.
pub(crate) fn ready_addresses<'a>(
    slices: impl Iterator<Item = &'a EndpointSlice>,
    port_name: &str,
    hostname: Option<&str>,
) -> Vec<SocketAddr> {
    let mut addrs = Vec::new();
    for slice in slices {
        let Some(port) = slice
            .ports
            .iter()
            .flatten()
            .find(|p| p.name.as_deref().unwrap_or_default() == port_name)
            .and_then(|p| p.port)
            .and_then(|p| u16::try_from(p).ok())
        else {
            continue;
        };
        for endpoint in slice.endpoints.iter().flatten() {
            if endpoint.conditions.as_ref().and_then(|c| c.ready) == Some(false) {
                continue;
            }
            if hostname.is_some() && endpoint.hostname.as_deref() != hostname {
                continue;
            }
            addrs.extend(
                endpoint
                    .addresses
                    .iter()
                    .filter_map(|a| a.parse::<IpAddr>().ok())
                    .map(|ip| SocketAddr::new(ip, port)),
            );
        }
    }
    addrs.sort();
    addrs
}

#[cfg(test)]
mod tests;
