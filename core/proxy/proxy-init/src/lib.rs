//! What `strait proxy-init` does in a meshed pod's init container: it
//! redirects the pod's TCP traffic to the proxy with iptables, as
//! linkerd2-proxy-init does, so that applications need no configuration to
//! be meshed.
//!
//! Inbound connections (the `nat` table's PREROUTING) go to the proxy's
//! inbound port; connections the pod makes (OUTPUT) go to its outbound
//! port, except the proxy's own (matched by its user id), loopback traffic
//! and the ports and subnets asked to be ignored. The chains and their
//! comments are linkerd2-proxy-init's, so tools that look for them (and
//! people used to reading them) find what they expect.

mod rules;
mod run;

pub use rules::{
    Config, INBOUND_PORTS_TO_IGNORE, ItemError, OUTPUT_CHAIN, ParseError, PortRange,
    REDIRECT_CHAIN, Subnet, restore_input,
};
pub use run::{IptablesMode, RunError, Runner, UnknownIptablesMode};
