//! `strait proxy` as a sidecar runs it: configuration from the environment.

use std::process::Command;

fn strait() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_strait"));
    command.env_clear();
    command
}

#[test]
fn help_lists_every_variable() {
    let output = strait().args(["proxy", "--help"]).output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for variable in [
        "LINKERD2_PROXY_IDENTITY_LOCAL_NAME",
        "LINKERD2_PROXY_DESTINATION_SVC_ADDR",
        "LINKERD2_PROXY_POLICY_WORKLOAD",
        "STRAIT_PROXY_INBOUND_DIRECT",
    ] {
        assert!(help.contains(variable), "{variable} missing:\n{help}");
    }
}

#[test]
fn a_missing_variable_is_named_and_nothing_starts() {
    let output = strait().arg("proxy").output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("LINKERD2_PROXY_IDENTITY_TOKEN_FILE"),
        "{stderr}"
    );
}

#[test]
fn a_taken_port_is_reported_with_the_listener() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let output = strait()
        .arg("proxy")
        .envs([
            (
                "LINKERD2_PROXY_IDENTITY_LOCAL_NAME",
                "bb.mc-demo.serviceaccount.identity.linkerd.cluster.local",
            ),
            (
                "LINKERD2_PROXY_IDENTITY_TRUST_ANCHORS",
                // Parsed before anything listens; a real anchor is needed.
                include_str!("fixtures/anchor.pem"),
            ),
            ("STRAIT_PROXY_IDENTITY_TOKEN", "token"),
            ("LINKERD2_PROXY_IDENTITY_SVC_ADDR", "127.0.0.1:1"),
            ("LINKERD2_PROXY_DESTINATION_SVC_ADDR", "127.0.0.1:1"),
            ("LINKERD2_PROXY_POLICY_SVC_ADDR", "127.0.0.1:1"),
            (
                "LINKERD2_PROXY_POLICY_WORKLOAD",
                r#"{"ns":"mc-demo","pod":"bb-1"}"#,
            ),
            ("LINKERD2_PROXY_INBOUND_LISTEN_ADDR", "127.0.0.1:0"),
            ("LINKERD2_PROXY_OUTBOUND_LISTEN_ADDR", addr.as_str()),
            ("LINKERD2_PROXY_ADMIN_LISTEN_ADDR", "127.0.0.1:0"),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&addr) && stderr.contains("outbound"),
        "{stderr}"
    );
}
