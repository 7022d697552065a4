//! The rule set, as `iptables-restore` input for the `nat` table.
//!
//! Building it is pure: the caller passes the table as `iptables-save`
//! printed it, so that jumps already installed by an earlier run are not
//! added twice, and the text can be checked without touching a kernel.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use strait_mesh::ports::{ADMIN_PORT, CONTROL_PORT, INBOUND_PORT, OUTBOUND_PORT};

/// The chain PREROUTING jumps to: inbound connections to the proxy.
pub const REDIRECT_CHAIN: &str = "PROXY_INIT_REDIRECT";
/// The chain OUTPUT jumps to: the pod's own connections to the proxy.
pub const OUTPUT_CHAIN: &str = "PROXY_INIT_OUTPUT";
/// The inbound ports left alone unless told otherwise: the proxy's control
/// port and admin port, which the kubelet's probes and Prometheus reach
/// directly.
pub const INBOUND_PORTS_TO_IGNORE: [u16; 2] = [CONTROL_PORT, ADMIN_PORT];

/// iptables' multiport match takes at most this many ports per rule (a
/// range counts as two).
const MULTIPORT_LIMIT: usize = 15;

/// A port or an inclusive range of ports, as `--inbound-ports-to-ignore`
/// and `--outbound-ports-to-ignore` take them (`4190`, `8000-9000`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    /// The first port.
    pub low: u16,
    /// The last port, equal to `low` for a single port.
    pub high: u16,
}

impl PortRange {
    /// A single port.
    pub fn single(port: u16) -> Self {
        PortRange {
            low: port,
            high: port,
        }
    }

    /// Parses a comma-separated list, naming `flag` in errors so the user
    /// knows which argument to fix. Blank entries are skipped.
    pub fn parse_list(flag: &str, text: &str) -> Result<Vec<PortRange>, ParseError> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse().map_err(|reason| ParseError {
                    flag: flag.to_string(),
                    item: item.to_string(),
                    reason,
                })
            })
            .collect()
    }

    /// How many of iptables' multiport slots the entry takes.
    fn slots(self) -> usize {
        if self.low == self.high { 1 } else { 2 }
    }
}

impl FromStr for PortRange {
    type Err = ItemError;

    fn from_str(text: &str) -> Result<Self, ItemError> {
        let port = |part: &str| match part.trim().parse::<u16>() {
            Ok(0) | Err(_) => Err(ItemError::Port(part.to_string())),
            Ok(port) => Ok(port),
        };
        let range = match text.split_once('-') {
            None => PortRange::single(port(text)?),
            Some((low, high)) => PortRange {
                low: port(low)?,
                high: port(high)?,
            },
        };
        if range.low > range.high {
            return Err(ItemError::Backwards(text.to_string()));
        }
        Ok(range)
    }
}

impl fmt::Display for PortRange {
    /// iptables' spelling: `4190`, `8000:9000`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.low == self.high {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}:{}", self.low, self.high)
        }
    }
}

/// An IPv4 network whose inbound connections bypass the proxy
/// (`--subnets-to-ignore`), in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subnet {
    /// The network address as given.
    pub addr: std::net::Ipv4Addr,
    /// The prefix length, 0 to 32.
    pub prefix: u8,
}

impl Subnet {
    /// Parses a comma-separated list of CIDRs, naming `flag` in errors.
    pub fn parse_list(flag: &str, text: &str) -> Result<Vec<Subnet>, ParseError> {
        text.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                item.parse().map_err(|reason| ParseError {
                    flag: flag.to_string(),
                    item: item.to_string(),
                    reason,
                })
            })
            .collect()
    }
}

impl FromStr for Subnet {
    type Err = ItemError;

    fn from_str(text: &str) -> Result<Self, ItemError> {
        let (addr, prefix) = text
            .split_once('/')
            .ok_or_else(|| ItemError::NotCidr(text.to_string()))?;
        let addr = match addr.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(addr)) => addr,
            Ok(IpAddr::V6(_)) => return Err(ItemError::Ipv6(text.to_string())),
            Err(_) => return Err(ItemError::NotIpv4(addr.to_string())),
        };
        let prefix = prefix
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| ItemError::Prefix(prefix.to_string()))?;
        Ok(Subnet { addr, prefix })
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A flag value that does not parse, with the offending item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{flag}: {reason}")]
pub struct ParseError {
    /// The flag the value came from, e.g. `--inbound-ports-to-ignore`.
    pub flag: String,
    /// The item that is wrong.
    pub item: String,
    /// Why.
    #[source]
    pub reason: ItemError,
}

/// Why one item of a port or subnet list is refused; names the text at
/// fault (the item, or the part of it that is wrong).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// A port, or an end of a range, that is no port.
    #[error("{0:?} is not a port between 1 and 65535")]
    Port(String),
    /// A range whose end is below its start.
    #[error("the range {0:?} ends before it starts")]
    Backwards(String),
    /// A subnet without a prefix length.
    #[error("{0:?} is not a CIDR such as 10.0.0.0/8")]
    NotCidr(String),
    /// An IPv6 subnet: iptables rules are IPv4 only.
    #[error("{0:?} is IPv6; the rules are IPv4 (iptables) only")]
    Ipv6(String),
    /// A subnet address that is no IPv4 address.
    #[error("{0:?} is not an IPv4 address")]
    NotIpv4(String),
    /// A prefix length above 32, or no number.
    #[error("{0:?} is not a prefix length between 0 and 32")]
    Prefix(String),
}

/// What to redirect where: the flags of `strait proxy-init`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Where inbound connections are redirected (the proxy's inbound port).
    pub incoming_proxy_port: u16,
    /// Where the pod's own connections are redirected (the proxy's outbound
    /// port).
    pub outgoing_proxy_port: u16,
    /// The proxy's user: its connections leave unredirected, or they would
    /// loop back into it. 0 adds no such rule, as linkerd2-proxy-init.
    pub proxy_uid: u32,
    /// Inbound ports reached directly, not through the proxy.
    pub inbound_ports_to_ignore: Vec<PortRange>,
    /// Destination ports the pod reaches directly.
    pub outbound_ports_to_ignore: Vec<PortRange>,
    /// Sources whose inbound connections are not redirected.
    pub subnets_to_ignore: Vec<Subnet>,
}

impl Default for Config {
    /// Linkerd's ports and user; the proxy's control, admin and own inbound
    /// ports ignored on the way in.
    fn default() -> Self {
        let incoming_proxy_port = INBOUND_PORT;
        Config {
            incoming_proxy_port,
            outgoing_proxy_port: OUTBOUND_PORT,
            proxy_uid: 2102,
            inbound_ports_to_ignore: INBOUND_PORTS_TO_IGNORE
                .into_iter()
                .chain([incoming_proxy_port])
                .map(PortRange::single)
                .collect(),
            outbound_ports_to_ignore: Vec::new(),
            subnets_to_ignore: Vec::new(),
        }
    }
}

/// The `iptables-restore --noflush` input that installs `config`.
///
/// Declaring the two chains creates them, or empties them when an earlier
/// run left them, so rerunning replaces the rules rather than adding a
/// second copy; the jumps from PREROUTING and OUTPUT are added only when
/// `existing` (`iptables-save -t nat` output) lacks them.
pub fn restore_input(config: &Config, existing: &str) -> String {
    let mut lines = vec![
        "*nat".to_string(),
        format!(":{REDIRECT_CHAIN} - [0:0]"),
        format!(":{OUTPUT_CHAIN} - [0:0]"),
    ];
    let rule = |chain: &str, matches: &str, comment: &str, target: &str| {
        let matches = if matches.is_empty() {
            String::new()
        } else {
            format!("{matches} ")
        };
        format!("-A {chain} {matches}-m comment --comment proxy-init/{comment} -j {target}")
    };

    // Inbound: ignored ports, ignored sources, then everything else.
    for ports in multiport_groups(&config.inbound_ports_to_ignore) {
        lines.push(rule(
            REDIRECT_CHAIN,
            &format!("-p tcp -m multiport --dports {ports}"),
            &format!("ignore-port-{ports}"),
            "RETURN",
        ));
    }
    for subnet in &config.subnets_to_ignore {
        lines.push(rule(
            REDIRECT_CHAIN,
            &format!("-s {subnet}"),
            &format!("ignore-subnet-{subnet}"),
            "RETURN",
        ));
    }
    lines.push(rule(
        REDIRECT_CHAIN,
        "-p tcp",
        "redirect-all-incoming-to-proxy-port",
        &format!("REDIRECT --to-ports {}", config.incoming_proxy_port),
    ));
    if !has_jump(existing, "PREROUTING", REDIRECT_CHAIN) {
        lines.push(rule(
            "PREROUTING",
            "",
            "install-proxy-init-prerouting",
            REDIRECT_CHAIN,
        ));
    }

    // Outbound: the proxy's own traffic, loopback, ignored ports, then
    // everything else.
    if config.proxy_uid > 0 {
        lines.push(rule(
            OUTPUT_CHAIN,
            &format!("-m owner --uid-owner {}", config.proxy_uid),
            "ignore-proxy-user-id",
            "RETURN",
        ));
    }
    lines.push(rule(OUTPUT_CHAIN, "-o lo", "ignore-loopback", "RETURN"));
    for ports in multiport_groups(&config.outbound_ports_to_ignore) {
        lines.push(rule(
            OUTPUT_CHAIN,
            &format!("-p tcp -m multiport --dports {ports}"),
            &format!("ignore-port-{ports}"),
            "RETURN",
        ));
    }
    lines.push(rule(
        OUTPUT_CHAIN,
        "-p tcp",
        "redirect-all-outgoing-to-proxy-port",
        &format!("REDIRECT --to-ports {}", config.outgoing_proxy_port),
    ));
    if !has_jump(existing, "OUTPUT", OUTPUT_CHAIN) {
        lines.push(rule(
            "OUTPUT",
            "",
            "install-proxy-init-output",
            OUTPUT_CHAIN,
        ));
    }

    lines.push("COMMIT".to_string());
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// The ports split into multiport lists that fit iptables' limit, each
/// joined by commas.
fn multiport_groups(ports: &[PortRange]) -> Vec<String> {
    let mut groups: Vec<Vec<String>> = Vec::new();
    let mut used = 0;
    for range in ports {
        if groups.is_empty() || used + range.slots() > MULTIPORT_LIMIT {
            groups.push(Vec::new());
            used = 0;
        }
        used += range.slots();
        if let Some(group) = groups.last_mut() {
            group.push(range.to_string());
        }
    }
    groups.into_iter().map(|group| group.join(",")).collect()
}

/// Whether `saved` (iptables-save output) has a rule in `chain` jumping to
/// `target`.
fn has_jump(saved: &str, chain: &str, target: &str) -> bool {
    saved.lines().any(|line| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words.len() >= 2
            && words[0] == "-A"
            && words[1] == chain
            && words.windows(2).any(|w| w[0] == "-j" && w[1] == target)
    })
}

#[cfg(test)]
mod tests;
