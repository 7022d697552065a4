use std::net::SocketAddr;

use super::*;

fn service(namespace: &str, name: &str, port: u16) -> Target {
    Target::Service {
        namespace: namespace.into(),
        name: name.into(),
        port,
        hostname: None,
    }
}

fn parse_local(authority: &str) -> Result<Target, ResolveError> {
    parse(authority, "cluster.local", Some("client-ns"))
}

#[test]
fn every_name_form_names_the_same_service() {
    let want = service("emojivoto", "web", 8080);
    for authority in [
        "web.emojivoto.svc.cluster.local:8080",
        "web.emojivoto.svc.cluster.local.:8080",
        "WEB.Emojivoto.svc.cluster.local:8080",
        "web.emojivoto.svc:8080",
        "web.emojivoto:8080",
    ] {
        assert_eq!(parse_local(authority), Ok(want.clone()), "{authority}");
    }
}

#[test]
fn a_bare_name_takes_the_default_namespace_or_fails() {
    assert_eq!(parse_local("web:80"), Ok(service("client-ns", "web", 80)));
    assert_eq!(
        parse("web:80", "cluster.local", None),
        Err(ResolveError::NoDefaultNamespace {
            authority: "web:80".into()
        })
    );
}

#[test]
fn a_missing_port_means_80() {
    assert_eq!(
        parse_local("web.emojivoto.svc.cluster.local"),
        Ok(service("emojivoto", "web", 80))
    );
}

#[test]
fn the_cluster_domain_is_configurable() {
    assert_eq!(
        parse("web.ns.svc.east.example:80", "east.example", None),
        Ok(service("ns", "web", 80))
    );
    let err = parse_local("web.ns.svc.east.example:80");
    assert_eq!(
        err,
        Err(ResolveError::UnknownDomain {
            authority: "web.ns.svc.east.example:80".into(),
            domain: "east.example".into(),
        })
    );
}

#[test]
fn foreign_names_are_unknown_domains() {
    assert!(matches!(
        parse_local("www.example.com:443"),
        Err(ResolveError::UnknownDomain { domain, .. }) if domain == "com"
    ));
}

#[test]
fn bad_ports_are_reported_with_the_authority() {
    for authority in ["web.ns:http", "web.ns:0", "web.ns:70000", "web.ns:"] {
        let err = parse_local(authority);
        assert_eq!(
            err,
            Err(ResolveError::InvalidPort {
                authority: authority.into()
            })
        );
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(authority), "{message}");
    }
}

#[test]
fn malformed_names_are_reported_with_the_authority() {
    for authority in [
        ":80",
        "web..ns:80",
        "web_app.ns:80",
        "-web.ns:80",
        "web-0.web.ns.svc:80",
    ] {
        let err = parse_local(authority);
        assert!(
            matches!(&err, Err(ResolveError::Malformed { authority: a, .. }) if a == authority),
            "{authority}: {err:?}"
        );
    }
}

#[test]
fn ip_addresses_are_addresses() {
    let v4: SocketAddr = "10.96.0.10:53".parse().unwrap();
    assert_eq!(parse_local("10.96.0.10:53"), Ok(Target::Address(v4)));
    let v6: SocketAddr = "[fd00::1]:8080".parse().unwrap();
    assert_eq!(parse_local("[fd00::1]:8080"), Ok(Target::Address(v6)));
    let default_port: SocketAddr = "10.96.0.10:80".parse().unwrap();
    assert_eq!(parse_local("10.96.0.10"), Ok(Target::Address(default_port)));
}

#[test]
fn a_pods_fully_qualified_name_names_its_service_and_hostname() {
    assert_eq!(
        parse_local("web-0.web.ns.svc.cluster.local:8080"),
        Ok(Target::Service {
            namespace: "ns".into(),
            name: "web".into(),
            port: 8080,
            hostname: Some("web-0".into()),
        })
    );
    assert!(matches!(
        parse_local("web-0.web.ns.svc.other.domain:8080"),
        Err(ResolveError::UnknownDomain { domain, .. }) if domain == "other.domain"
    ));
}
