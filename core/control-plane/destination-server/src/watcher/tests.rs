use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;

use linkerd2_proxy_api::destination::{Update, update};
use strait_destination::{Endpoint, EndpointSet, ProtocolHint};

use super::{diff, initial};

fn labels() -> HashMap<String, String> {
    HashMap::from([
        ("namespace".to_string(), "mc-demo".to_string()),
        ("service".to_string(), "bb".to_string()),
    ])
}

fn endpoint(addr: &str, identity: Option<&str>) -> Endpoint {
    Endpoint {
        address: addr.parse().unwrap(),
        identity: identity.map(str::to_string),
        protocol_hint: ProtocolHint::Unknown,
        opaque: false,
        labels: BTreeMap::new(),
        authority_override: None,
    }
}

fn set(endpoints: &[Endpoint]) -> EndpointSet {
    EndpointSet {
        endpoints: endpoints.iter().map(|e| (e.address, e.clone())).collect(),
        gateway_exported: false,
    }
}

/// Each update in a short form: `+addr,addr`, `-addr`, `none:<exists>`.
fn describe(updates: &[Update]) -> Vec<String> {
    updates
        .iter()
        .map(|u| match u.update.as_ref().unwrap() {
            update::Update::Add(set) => {
                assert_eq!(set.metric_labels, labels());
                let addrs: Vec<String> = set
                    .addrs
                    .iter()
                    .map(|a| SocketAddr::try_from(a.addr.unwrap()).unwrap().to_string())
                    .collect();
                format!("+{}", addrs.join(","))
            }
            update::Update::Remove(set) => {
                let addrs: Vec<String> = set
                    .addrs
                    .iter()
                    .map(|a| SocketAddr::try_from(*a).unwrap().to_string())
                    .collect();
                format!("-{}", addrs.join(","))
            }
            update::Update::NoEndpoints(n) => format!("none:{}", n.exists),
        })
        .collect()
}

#[test]
fn the_first_message_is_the_set_or_why_there_is_none() {
    let one = set(&[endpoint("10.0.0.1:80", None)]);
    assert_eq!(
        describe(&[initial(Some(&one), &labels())]),
        ["+10.0.0.1:80"]
    );
    assert_eq!(
        describe(&[initial(Some(&EndpointSet::default()), &labels())]),
        ["none:true"]
    );
    assert_eq!(describe(&[initial(None, &labels())]), ["none:false"]);
}

#[test]
fn changes_are_sent_as_removals_then_additions() {
    let old = set(&[
        endpoint("10.0.0.1:80", None),
        endpoint("10.0.0.2:80", None),
        endpoint("10.0.0.3:80", None),
    ]);
    let new = set(&[
        endpoint("10.0.0.1:80", None),
        endpoint(
            "10.0.0.3:80",
            Some("bb.mc-demo.serviceaccount.identity.linkerd.cluster.local"),
        ),
        endpoint("10.0.0.4:80", None),
    ]);
    assert_eq!(
        describe(&diff(Some(&old), Some(&new), &labels())),
        ["-10.0.0.2:80", "+10.0.0.3:80,10.0.0.4:80"]
    );
    assert!(diff(Some(&old), Some(&old.clone()), &labels()).is_empty());
}

#[test]
fn emptiness_and_existence_are_reported() {
    let one = set(&[endpoint("10.0.0.1:80", None)]);
    let empty = EndpointSet::default();
    assert_eq!(
        describe(&diff(Some(&one), Some(&empty), &labels())),
        ["none:true"]
    );
    assert_eq!(describe(&diff(Some(&one), None, &labels())), ["none:false"]);
    assert_eq!(
        describe(&diff(None, Some(&empty), &labels())),
        ["none:true"]
    );
    assert_eq!(
        describe(&diff(None, Some(&one), &labels())),
        ["+10.0.0.1:80"]
    );
    assert_eq!(
        describe(&diff(Some(&empty), Some(&one), &labels())),
        ["+10.0.0.1:80"]
    );
    assert!(diff(None, None, &labels()).is_empty());
    assert!(diff(Some(&empty), Some(&empty), &labels()).is_empty());
}
