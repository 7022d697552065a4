//! Address ranges with exceptions, as NetworkAuthentication's `networks[]`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An address range such as `10.0.0.0/8`. A bare address is a /32 (or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    address: IpAddr,
    prefix_len: u8,
}

/// Why a string is not a CIDR; carries the offending text so callers can say where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CidrError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for CidrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid CIDR {:?}: {}", self.input, self.reason)
    }
}

impl std::error::Error for CidrError {}

impl Cidr {
    /// Builds a range, rejecting a prefix longer than the address family allows
    /// so that a malformed policy cannot silently admit or refuse everyone.
    pub fn new(address: IpAddr, prefix_len: u8) -> Result<Self, CidrError> {
        let max = match address {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix_len > max {
            return Err(CidrError {
                input: format!("{address}/{prefix_len}"),
                reason: "prefix length is longer than the address",
            });
        }
        Ok(Self {
            address,
            prefix_len,
        })
    }

    /// `0.0.0.0/0`: every IPv4 client.
    pub const ALL_V4: Cidr = Cidr {
        address: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
        prefix_len: 0,
    };

    /// `::/0`: every IPv6 client.
    pub const ALL_V6: Cidr = Cidr {
        address: IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        prefix_len: 0,
    };

    /// The base address as written (host bits are ignored when matching).
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The number of leading bits that must match.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` falls in the range. Families never match each other, except
    /// that an IPv4-mapped IPv6 client (`::ffff:a.b.c.d`) is treated as IPv4, as
    /// dual-stack sockets report IPv4 peers that way.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_matches(
                u32::from(net).into(),
                u32::from(ip).into(),
                32,
                self.prefix_len,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(u128::from(net), u128::from(ip), 128, self.prefix_len)
            }
            _ => false,
        }
    }
}

fn prefix_matches(net: u128, ip: u128, bits: u8, prefix_len: u8) -> bool {
    if prefix_len == 0 {
        return true;
    }
    let shift = u32::from(bits - prefix_len);
    (net >> shift) == (ip >> shift)
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| CidrError {
            input: s.to_string(),
            reason,
        };
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let address: IpAddr = addr.trim().parse().map_err(|_| err("not an IP address"))?;
        let prefix_len = match prefix {
            None => match address {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
            Some(p) => p
                .trim()
                .parse::<u8>()
                .map_err(|_| err("prefix length is not a number from 0 to 128"))?,
        };
        Cidr::new(address, prefix_len).map_err(|e| err(e.reason))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.address, self.prefix_len)
    }
}

/// A range of admitted clients minus exceptions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Network {
    /// The admitted range.
    pub cidr: Cidr,
    /// Ranges inside `cidr` that are not admitted.
    pub except: Vec<Cidr>,
}

impl Network {
    /// Both families, no exceptions: what an authorization without networks means.
    pub fn all() -> [Network; 2] {
        [
            Network {
                cidr: Cidr::ALL_V4,
                except: Vec::new(),
            },
            Network {
                cidr: Cidr::ALL_V6,
                except: Vec::new(),
            },
        ]
    }

    /// Whether `ip` is in the range and in none of the exceptions.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.cidr.contains(ip) && !self.except.iter().any(|e| e.contains(ip))
    }
}

#[cfg(test)]
mod tests;
