//! `strait proxy-init` flags, checked through `--dry-run` (applying the
//! rules is tested in a network namespace by the strait-proxy-init crate).

use std::process::{Command, Output};

fn strait(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_strait"))
        .args(args)
        .output()
        .expect("strait runs")
}

#[test]
fn dry_run_prints_the_rules_for_the_flags() {
    let output = strait(&[
        "proxy-init",
        "--dry-run",
        "--incoming-proxy-port",
        "4143",
        "--outgoing-proxy-port",
        "4140",
        "--proxy-uid",
        "2102",
        "--inbound-ports-to-ignore",
        "4190,4191,4567,4568",
        "--outbound-ports-to-ignore",
        "4567,4568",
        "--subnets-to-ignore",
        "10.0.0.0/8",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rules = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(rules.starts_with("*nat\n:PROXY_INIT_REDIRECT - [0:0]\n:PROXY_INIT_OUTPUT - [0:0]\n"));
    assert!(rules.contains("--dports 4190,4191,4567,4568 "));
    assert!(rules.contains("-A PROXY_INIT_REDIRECT -s 10.0.0.0/8 "));
    assert!(rules.contains("-m owner --uid-owner 2102 "));
    assert!(rules.contains("-A PROXY_INIT_OUTPUT -p tcp -m multiport --dports 4567,4568 "));
    assert!(rules.ends_with("-j PROXY_INIT_OUTPUT\nCOMMIT\n"));
}

#[test]
fn defaults_ignore_the_proxy_ports_inbound() {
    let output = strait(&["proxy-init", "--dry-run", "--incoming-proxy-port", "5143"]);
    assert!(output.status.success());
    let rules = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(rules.contains("--dports 4190,4191,5143 "), "{rules}");
    assert!(rules.contains("-j REDIRECT --to-ports 5143\n"), "{rules}");
}

#[test]
fn bad_flags_are_named() {
    for (args, expected) in [
        (
            vec!["--inbound-ports-to-ignore", "4190,http"],
            "--inbound-ports-to-ignore: \"http\"",
        ),
        (
            vec!["--subnets-to-ignore", "10.0.0.0"],
            "--subnets-to-ignore: \"10.0.0.0\"",
        ),
        (vec!["--iptables-mode", "xt"], "--iptables-mode: \"xt\""),
        (vec!["--proxy-uid=-1"], "--proxy-uid: -1"),
    ] {
        let mut all = vec!["proxy-init", "--dry-run"];
        all.extend(args);
        let output = strait(&all);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{all:?} succeeded");
        assert!(stderr.contains(expected), "{all:?}: {stderr}");
    }
}
