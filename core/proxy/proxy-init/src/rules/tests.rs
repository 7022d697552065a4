use super::*;

fn golden(name: &str) -> String {
    let path = format!("{}/tests/golden/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_default_rules_match_linkerd2_proxy_init() {
    assert_eq!(
        restore_input(&Config::default(), ""),
        golden("default.rules")
    );
}

#[test]
fn ignored_ports_and_subnets_come_before_the_redirects() {
    let config = Config {
        inbound_ports_to_ignore: PortRange::parse_list("in", "4190,4191,25,8000-9000").unwrap(),
        outbound_ports_to_ignore: PortRange::parse_list("out", "443, 3306").unwrap(),
        subnets_to_ignore: Subnet::parse_list("subnets", "10.0.0.0/8,192.168.1.0/24").unwrap(),
        ..Config::default()
    };
    assert_eq!(restore_input(&config, ""), golden("ignored.rules"));
}

#[test]
fn jumps_already_installed_are_not_added_again() {
    let saved = "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:PROXY_INIT_OUTPUT - [0:0]\n:PROXY_INIT_REDIRECT - [0:0]\n\
        -A PREROUTING -m comment --comment \"proxy-init/install-proxy-init-prerouting\" -j PROXY_INIT_REDIRECT\n\
        -A OUTPUT -m comment --comment \"proxy-init/install-proxy-init-output\" -j PROXY_INIT_OUTPUT\nCOMMIT\n";
    let input = restore_input(&Config::default(), saved);
    assert!(!input.contains("-A PREROUTING"), "{input}");
    assert!(!input.contains("-A OUTPUT"), "{input}");
    // The chains are still declared (and so emptied) and refilled.
    assert!(input.contains(":PROXY_INIT_REDIRECT - [0:0]\n"));
    assert!(input.contains("-j REDIRECT --to-ports 4143\n"));
    assert!(input.contains("-j REDIRECT --to-ports 4140\n"));

    // A jump to some other chain does not count.
    let other = "-A OUTPUT -j KUBE-SERVICES\n-A PREROUTING -j PROXY_INIT_REDIRECT_OLD\n";
    let input = restore_input(&Config::default(), other);
    assert!(input.contains("-A OUTPUT -m comment"), "{input}");
    assert!(input.contains("-A PREROUTING -m comment"), "{input}");
}

#[test]
fn long_port_lists_are_split_at_the_multiport_limit() {
    // 14 single ports and a range: the range (two slots) does not fit in
    // the first rule's fifteen.
    let mut list: Vec<String> = (1..=14).map(|p| (1000 + p).to_string()).collect();
    list.push("2000-2010".into());
    let config = Config {
        outbound_ports_to_ignore: PortRange::parse_list("out", &list.join(",")).unwrap(),
        ..Config::default()
    };
    let input = restore_input(&config, "");
    let multiport: Vec<&str> = input
        .lines()
        .filter(|l| l.starts_with("-A PROXY_INIT_OUTPUT -p tcp -m multiport"))
        .collect();
    assert_eq!(multiport.len(), 2, "{input}");
    assert!(multiport[0].contains(
        "--dports 1001,1002,1003,1004,1005,1006,1007,1008,1009,1010,1011,1012,1013,1014 "
    ));
    assert!(multiport[1].contains("--dports 2000:2010 "));
}

#[test]
fn uid_zero_adds_no_owner_rule() {
    let config = Config {
        proxy_uid: 0,
        ..Config::default()
    };
    assert!(!restore_input(&config, "").contains("--uid-owner"));
}

#[test]
fn bad_ports_and_subnets_are_named() {
    let err = PortRange::parse_list("--inbound-ports-to-ignore", "4190,http").unwrap_err();
    assert_eq!(err.flag, "--inbound-ports-to-ignore");
    assert_eq!(err.item, "http");
    assert!(
        err.to_string()
            .starts_with("--inbound-ports-to-ignore: \"http\""),
        "{err}"
    );
    assert!(PortRange::parse_list("p", "0").is_err());
    assert!(PortRange::parse_list("p", "65536").is_err());
    let backwards = PortRange::parse_list("p", "9000-8000").unwrap_err();
    assert_eq!(backwards.reason, ItemError::Backwards("9000-8000".into()));
    assert_eq!(
        backwards.to_string(),
        "p: the range \"9000-8000\" ends before it starts"
    );
    assert_eq!(PortRange::parse_list("p", " , ").unwrap(), vec![]);

    let subnet = |text| Subnet::parse_list("s", text).unwrap_err().reason;
    assert_eq!(subnet("10.0.0.0"), ItemError::NotCidr("10.0.0.0".into()));
    assert_eq!(subnet("10.0.0.0/33"), ItemError::Prefix("33".into()));
    assert_eq!(subnet("fd00::/8"), ItemError::Ipv6("fd00::/8".into()));
    assert_eq!(subnet("10.0.0/8"), ItemError::NotIpv4("10.0.0".into()));
}
