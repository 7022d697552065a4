use super::*;

fn scope() -> GatewayScope {
    GatewayScope::new(["svc.cluster.local."])
}

#[test]
fn services_of_the_cluster_are_forwarded() {
    for authority in [
        "bb.mc-demo.svc.cluster.local:8080",
        "bb.mc-demo.svc.cluster.local.:8080",
        "BB.MC-DEMO.SVC.CLUSTER.LOCAL:80",
        "web-2.prod.svc.cluster.local:443",
        "web-0.web.prod.svc.cluster.local:8080",
    ] {
        assert_eq!(scope().check(authority), Ok(()), "{authority}");
    }
}

#[test]
fn addresses_are_refused_whatever_their_form() {
    for authority in [
        "127.0.0.1:4191",
        "169.254.169.254:80",
        "10.96.0.1:443",
        "[::1]:4191",
        "[fd00::1]:80",
        "127.1:4191",
        "2130706433:80",
        "0x7f.0.0.1:80",
    ] {
        assert!(
            matches!(scope().check(authority), Err(GatewayRefusal::Address(_))),
            "{authority}"
        );
    }
}

#[test]
fn names_outside_the_clusters_services_are_refused() {
    for authority in [
        "localhost:4191",
        "example.com:443",
        "metadata.google.internal:80",
        "bb.svc.cluster.local:8080",
        "svc.cluster.local:80",
        "a.b.c.d.svc.cluster.local:80",
        "web-0..prod.svc.cluster.local:80",
        "bb.mc-demo.svc.cluster.local.evil.com:80",
        "bb.mc-demo.svc.other.local:80",
        "bb_x.mc-demo.svc.cluster.local:80",
        "-bb.mc-demo.svc.cluster.local:80",
        ":80",
    ] {
        let refusal = scope().check(authority).unwrap_err();
        assert!(
            matches!(refusal, GatewayRefusal::NotAService { .. }),
            "{authority}: {refusal}"
        );
        assert!(
            refusal.to_string().contains("svc.cluster.local"),
            "{refusal}"
        );
    }
}

#[test]
fn suffixes_are_read_as_linkerd_writes_them() {
    let scope = GatewayScope::new(["svc.east.example.", " svc.cluster.local ", ""]);
    assert_eq!(scope.check("bb.ns.svc.east.example:80"), Ok(()));
    assert_eq!(scope.check("bb.ns.svc.cluster.local:80"), Ok(()));
    assert!(
        GatewayScope::new(Vec::<String>::new())
            .check("bb.ns.svc.cluster.local:80")
            .is_err()
    );
}
