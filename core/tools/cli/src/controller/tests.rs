use super::*;

mod control_plane {
    use std::path::PathBuf;
    use std::time::Duration;

    use clap::Parser;
    use strait_identity::{Issuer, SigningCa};
    use strait_plugin_host::PluginSource;
    use strait_policy::DefaultPolicy;

    use super::super::ControllerCommand;
    use super::super::{destination, identity, policy};

    #[derive(Parser)]
    struct Controller {
        #[command(subcommand)]
        command: ControllerCommand,
    }

    fn parse(args: &[&str]) -> Result<ControllerCommand, clap::Error> {
        Controller::try_parse_from(std::iter::once("controller").chain(args.iter().copied()))
            .map(|c| c.command)
    }

    fn identity_args(args: &[&str]) -> identity::IdentityArgs {
        match parse(&[&["identity"], args].concat()) {
            Ok(ControllerCommand::Identity(args)) => args,
            Ok(_) => panic!("not the identity command"),
            Err(e) => panic!("{e}"),
        }
    }

    fn policy_args(args: &[&str]) -> policy::PolicyArgs {
        match parse(&[&["policy"], args].concat()) {
            Ok(ControllerCommand::Policy(args)) => args,
            Ok(_) => panic!("not the policy command"),
            Err(e) => panic!("{e}"),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("strait-controller-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes a trust anchor and an issuer under it as Linkerd's install
    /// lays them out, and returns the three paths as flags.
    fn issuer_files(dir: &std::path::Path) -> Vec<String> {
        let day = Duration::from_secs(86_400);
        let root = SigningCa::generate_root("root.linkerd.cluster.local", day).unwrap();
        let issuer = Issuer::generate(&root, "identity.linkerd.cluster.local", day).unwrap();
        let anchors = dir.join("ca-bundle.crt");
        let cert = dir.join("crt.pem");
        let key = dir.join("key.pem");
        std::fs::write(&anchors, root.as_trust_anchor().to_pem()).unwrap();
        std::fs::write(&cert, issuer.ca().certificate_pem()).unwrap();
        std::fs::write(&key, issuer.ca().key_pem()).unwrap();
        vec![
            format!("--trust-anchors-file={}", anchors.display()),
            format!("--issuer-certificate-file={}", cert.display()),
            format!("--issuer-key-file={}", key.display()),
        ]
    }

    #[test]
    fn identity_defaults_are_linkerds() {
        let args = identity_args(&[]);
        assert_eq!(args.addr.port(), 8080);
        assert_eq!(args.issuance_lifetime, Duration::from_secs(24 * 3600));
        assert_eq!(args.token_audiences, ["identity.l5d.io"]);
        assert_eq!(
            args.trust_anchors_file,
            PathBuf::from("/var/run/linkerd/identity/trust-roots/ca-bundle.crt")
        );
    }

    #[test]
    fn the_certifier_uses_the_files_and_names_given() {
        let dir = temp_dir("certifier");
        let files = issuer_files(&dir);
        let mut flags: Vec<&str> = files.iter().map(String::as_str).collect();
        flags.extend([
            "--controller-namespace=strait",
            "--identity-trust-domain=example.org",
            "--issuance-lifetime=90m",
        ]);
        let certifier = identity::certifier(&identity_args(&flags)).unwrap();
        assert_eq!(
            certifier.domain().identity("mc-demo", "slow-cooker"),
            "slow-cooker.mc-demo.serviceaccount.identity.strait.example.org"
        );
    }

    #[test]
    fn a_missing_issuer_file_is_named() {
        let dir = temp_dir("missing");
        let files = issuer_files(&dir);
        let missing = dir.join("nope.pem");
        let flag = format!("--issuer-key-file={}", missing.display());
        let args = identity_args(&[files[0].as_str(), files[1].as_str(), flag.as_str()]);
        let Err(err) = identity::certifier(&args) else {
            panic!("a missing key file is an error");
        };
        assert!(err.contains("nope.pem"), "{err}");
    }

    #[test]
    fn a_bad_lifetime_is_refused_with_an_example() {
        let Err(err) = parse(&["identity", "--issuance-lifetime=tomorrow"]) else {
            panic!("not a duration");
        };
        assert!(err.to_string().contains("24h"), "{err}");
    }

    #[test]
    fn policy_flags_become_the_index_settings() {
        let config = policy::index_config(&policy_args(&[
            "--default-policy=cluster-authenticated",
            "--cluster-networks=10.42.0.0/16,fd00::/8",
            "--controller-namespace=strait",
            "--cluster-domain=east.local",
            "--default-opaque-ports=3306,7000-7002",
        ]));
        assert_eq!(config.default_policy, DefaultPolicy::ClusterAuthenticated);
        assert_eq!(config.cluster_domain, "east.local");
        assert!(config.default_opaque_ports.contains(7001));
        assert!(!config.default_opaque_ports.contains(5432));
        let networks: Vec<String> = config
            .cluster_networks
            .iter()
            .map(|n| n.cidr.to_string())
            .collect();
        assert_eq!(networks, ["10.42.0.0/16", "fd00::/8"]);
        assert_eq!(config.probe_networks.len(), 2);
        assert_eq!(
            config.service_account_identity("mc-demo", "bb"),
            "bb.mc-demo.serviceaccount.identity.strait.cluster.local"
        );
        let defaults = policy::index_config(&policy_args(&[]));
        assert_eq!(defaults.default_policy, DefaultPolicy::AllUnauthenticated);
        assert_eq!(defaults.cluster_networks.len(), 5);
        assert_eq!(defaults.cluster_domain, "cluster.local");
        assert!(defaults.default_opaque_ports.contains(5432));
    }

    #[test]
    fn bad_policy_flags_say_what_is_accepted() {
        let Err(err) = parse(&["policy", "--default-policy=nobody"]) else {
            panic!("unknown policy");
        };
        assert!(err.to_string().contains("cluster-authenticated"), "{err}");
        let Err(err) = parse(&["policy", "--cluster-networks=10.0.0.0/33"]) else {
            panic!("bad network");
        };
        assert!(err.to_string().contains("10.0.0.0/33"), "{err}");
    }

    #[test]
    fn the_authz_plugin_is_the_file_named_else_the_built_in_one() {
        let args = policy_args(&["--authz-plugin=/plugins/authz.wasm"]);
        assert!(matches!(
            policy::authz_source(&args),
            PluginSource::File(path) if path == std::path::Path::new("/plugins/authz.wasm")
        ));
        let args = policy_args(&[]);
        assert!(matches!(
            policy::authz_source(&args),
            PluginSource::Bytes { bytes, .. } if bytes == strait_default_plugins::AUTHZ_DEFAULT
        ));
    }

    #[test]
    fn help_names_every_component() {
        use clap::CommandFactory;
        let help = Controller::command().render_help().to_string();
        for component in ["identity", "destination", "policy", "service-mirror"] {
            assert!(
                help.contains(component),
                "{component} missing from:\n{help}"
            );
        }
    }

    #[test]
    fn destination_flags_name_the_cluster() {
        let args = match parse(&[
            "destination",
            "--cluster-domain=east.local",
            "--identity-trust-domain=east.example",
        ]) {
            Ok(ControllerCommand::Destination(args)) => args,
            Ok(_) => panic!("not the destination command"),
            Err(e) => panic!("{e}"),
        };
        assert_eq!(args.addr.port(), 8086);
        let config = destination::cluster_config(&args);
        assert_eq!(config.cluster_domain, "east.local");
        assert_eq!(
            config.identity("bb", "mc-demo"),
            "bb.mc-demo.serviceaccount.identity.linkerd.east.example"
        );
    }
}

#[test]
fn the_lease_holder_is_the_flag_else_the_pod_name() {
    assert_eq!(
        holder_identity(Some("mirror-0".into()), Some("pod-x".into())),
        Ok("mirror-0".to_string())
    );
    assert_eq!(
        holder_identity(None, Some("controller-east-5d8f9-abcde\n".into())),
        Ok("controller-east-5d8f9-abcde".to_string())
    );
    let err = holder_identity(None, Some("  ".into())).unwrap_err();
    assert!(
        err.contains("--holder-identity") && err.contains("HOSTNAME"),
        "{err}"
    );
    assert!(holder_identity(None, None).is_err());
}
