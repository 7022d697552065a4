//! `strait proxy-init`: the init container of a meshed pod, which sends
//! the pod's TCP traffic through its proxy with iptables (the flags are
//! linkerd2-proxy-init's).

use std::path::PathBuf;
use std::process::ExitCode;

use strait_mesh::ports::{INBOUND_PORT, OUTBOUND_PORT};
use strait_proxy_init::{
    Config, INBOUND_PORTS_TO_IGNORE, IptablesMode, PortRange, Runner, Subnet, restore_input,
};

/// Arguments of `strait proxy-init`.
#[derive(clap::Args)]
pub struct ProxyInitArgs {
    /// Port inbound connections are redirected to (the proxy's inbound port).
    #[arg(long, default_value_t = INBOUND_PORT)]
    incoming_proxy_port: u16,
    /// Port the pod's own connections are redirected to (the proxy's
    /// outbound port).
    #[arg(long, default_value_t = OUTBOUND_PORT)]
    outgoing_proxy_port: u16,
    /// The proxy's user id, whose connections are not redirected.
    #[arg(long, default_value_t = strait_api::image::PROXY_UID)]
    proxy_uid: i64,
    /// Inbound ports or ranges (`8000-9000`) reached without the proxy,
    /// comma-separated or repeated [default: 4190,4191 and the incoming
    /// proxy port].
    #[arg(long)]
    inbound_ports_to_ignore: Vec<String>,
    /// Destination ports or ranges the pod reaches without the proxy.
    #[arg(long)]
    outbound_ports_to_ignore: Vec<String>,
    /// Source networks (CIDR) whose inbound connections skip the proxy.
    #[arg(long)]
    subnets_to_ignore: Vec<String>,
    /// `legacy` or `nft`: which iptables back end to use; by default
    /// whichever `iptables-restore` is.
    #[arg(long)]
    iptables_mode: Option<String>,
    /// A network namespace to configure instead of this process's (a path
    /// such as /var/run/netns/NAME).
    #[arg(long)]
    netns: Option<PathBuf>,
    /// Print the iptables-restore input instead of applying it.
    #[arg(long)]
    dry_run: bool,
}

/// Applies the rules (or prints them with `--dry-run`).
pub fn run(args: ProxyInitArgs) -> ExitCode {
    let result = config(&args).and_then(|(config, mode)| {
        if args.dry_run {
            print!("{}", restore_input(&config, ""));
            return Ok(());
        }
        let runner = Runner {
            mode,
            netns: args.netns.clone(),
        };
        let applied = runner.apply(&config).map_err(|e| e.to_string())?;
        print!("{applied}");
        Ok(())
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn config(args: &ProxyInitArgs) -> Result<(Config, IptablesMode), String> {
    let proxy_uid = u32::try_from(args.proxy_uid)
        .map_err(|_| format!("--proxy-uid: {} is not a user id", args.proxy_uid))?;
    let inbound_ports_to_ignore = if args.inbound_ports_to_ignore.is_empty() {
        INBOUND_PORTS_TO_IGNORE
            .into_iter()
            .chain([args.incoming_proxy_port])
            .map(PortRange::single)
            .collect()
    } else {
        PortRange::parse_list(
            "--inbound-ports-to-ignore",
            &args.inbound_ports_to_ignore.join(","),
        )
        .map_err(|e| e.to_string())?
    };
    let config = Config {
        incoming_proxy_port: args.incoming_proxy_port,
        outgoing_proxy_port: args.outgoing_proxy_port,
        proxy_uid,
        inbound_ports_to_ignore,
        outbound_ports_to_ignore: PortRange::parse_list(
            "--outbound-ports-to-ignore",
            &args.outbound_ports_to_ignore.join(","),
        )
        .map_err(|e| e.to_string())?,
        subnets_to_ignore: Subnet::parse_list(
            "--subnets-to-ignore",
            &args.subnets_to_ignore.join(","),
        )
        .map_err(|e| e.to_string())?,
    };
    let mode = match &args.iptables_mode {
        None => IptablesMode::Default,
        Some(text) => IptablesMode::parse(text).map_err(|e| e.to_string())?,
    };
    Ok((config, mode))
}
