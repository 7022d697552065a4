//! How `check` and `gateways` learn whether a Link's gateway is alive: from
//! its service mirror's own probe (`gateway_alive` and `gateway_latency` on
//! the mirror's `/metrics`) where the cluster lets those be read, else by
//! sending the HTTP GET of the Link's `probeSpec` from here, timed.

use std::time::{Duration, Instant};

use strait_api::go_duration;
use strait_api::link::Link;
use strait_mesh::names::{GATEWAY_PROBE_PATH, GATEWAY_PROBE_PORT};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cluster::Cluster;

/// The longest a command waits for one gateway, whatever the Link allows:
/// a user is waiting.
const MAX_WAIT: Duration = Duration::from_secs(5);

/// A probe that cannot be sent, or got no good answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// The Link's probe port is not a port.
    #[error("spec.probeSpec.port {value:?} is not a port number")]
    BadPort {
        /// The field's value.
        value: String,
    },
    /// Connecting, writing or reading failed.
    #[error("{url}: {reason}")]
    Io {
        /// The probe's URL.
        url: String,
        /// The I/O error.
        reason: String,
    },
    /// The answer is not HTTP.
    #[error("{url}: not an HTTP answer")]
    NotHttp {
        /// The probe's URL.
        url: String,
    },
    /// The gateway answered, but not with 2xx.
    #[error("{url} answered {status}")]
    Status {
        /// The probe's URL.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// No answer in time.
    #[error("{url} gave no answer within {timeout:?}")]
    Timeout {
        /// The probe's URL.
        url: String,
        /// How long it waited.
        timeout: Duration,
    },
}

/// Where and how a Link's gateway is probed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeTarget {
    /// The first gateway address, as the service mirror probes it.
    pub address: String,
    /// The probe port.
    pub port: u16,
    /// The HTTP path.
    pub path: String,
    /// How long the probe may take.
    pub timeout: Duration,
}

impl ProbeTarget {
    /// The probe of a gateway-mode Link; `None` for a gatewayless Link, and
    /// an error naming the field when the Link's values are unusable.
    pub fn of(link: &Link) -> Option<Result<Self, ProbeError>> {
        let address = link
            .spec
            .gateway_address
            .as_deref()
            .and_then(|a| a.split(',').map(str::trim).find(|a| !a.is_empty()))?
            .to_string();
        let probe = link.spec.probe_spec.clone().unwrap_or_default();
        let port = match probe.port.as_deref() {
            None => GATEWAY_PROBE_PORT,
            Some(text) => match text.parse::<u16>() {
                Ok(port) => port,
                Err(_) => {
                    return Some(Err(ProbeError::BadPort {
                        value: text.to_string(),
                    }));
                }
            },
        };
        let timeout = probe
            .timeout
            .as_deref()
            .and_then(go_duration)
            .unwrap_or(MAX_WAIT)
            .min(MAX_WAIT);
        Some(Ok(ProbeTarget {
            address,
            port,
            path: probe.path.unwrap_or_else(|| GATEWAY_PROBE_PATH.into()),
            timeout,
        }))
    }

    /// One GET of the probe path: the time to a 2xx answer, or why none came.
    pub async fn probe(&self) -> Result<Duration, ProbeError> {
        let start = Instant::now();
        match tokio::time::timeout(self.timeout, self.get()).await {
            Ok(Ok(())) => Ok(start.elapsed()),
            Ok(Err(err)) => Err(err),
            Err(_) => Err(ProbeError::Timeout {
                url: self.url(),
                timeout: self.timeout,
            }),
        }
    }

    fn url(&self) -> String {
        format!("http://{}:{}{}", self.address, self.port, self.path)
    }

    async fn get(&self) -> Result<(), ProbeError> {
        let url = self.url();
        let io = |e: std::io::Error| ProbeError::Io {
            url: url.clone(),
            reason: e.to_string(),
        };
        let mut stream = TcpStream::connect((self.address.as_str(), self.port))
            .await
            .map_err(io)?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.path, self.address
        );
        stream.write_all(request.as_bytes()).await.map_err(io)?;
        let mut head = Vec::new();
        let mut buf = [0u8; 256];
        while !head.contains(&b'\n') {
            let n = stream.read(&mut buf).await.map_err(io)?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        let status = line
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse::<u16>().ok())
            .ok_or_else(|| ProbeError::NotHttp { url: url.clone() })?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(ProbeError::Status { url, status })
        }
    }
}

/// A latency as `gateways` and `check` print it: whole milliseconds.
pub fn millis(latency: Duration) -> String {
    format!("{}ms", latency.as_millis())
}

/// Where a gateway's health was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// From the Link's service mirror, which probes from the source cluster.
    ByMirror,
    /// From a probe sent by this command.
    FromHere,
}

/// A gateway's health.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Health {
    /// Whether it answers its probe.
    pub alive: bool,
    /// The probe's latency (the mirror's mean, or this command's probe).
    pub latency: Option<String>,
    /// Why it is not alive, when known.
    pub why: Option<String>,
    /// Where this was learned.
    pub seen: Seen,
}

/// The health of a gateway-mode Link's gateway; `None` for a gatewayless
/// Link, an error when its probe settings are unusable.
pub async fn health<C: Cluster>(cluster: &C, link: &Link) -> Option<Result<Health, ProbeError>> {
    let target = match ProbeTarget::of(link)? {
        Ok(target) => target,
        Err(err) => return Some(Err(err)),
    };
    let name = link.metadata.name.clone().unwrap_or_default();
    let texts = cluster.mirror_metrics(&name).await;
    if let Some(health) = texts.iter().find_map(|text| from_metrics(text, &name)) {
        return Some(Ok(health));
    }
    Some(Ok(match target.probe().await {
        Ok(latency) => Health {
            alive: true,
            latency: Some(millis(latency)),
            why: None,
            seen: Seen::FromHere,
        },
        Err(why) => Health {
            alive: false,
            latency: None,
            why: Some(why.to_string()),
            seen: Seen::FromHere,
        },
    }))
}

/// The gateway's health as a service mirror's metrics report it for Link
/// `link`: `gateway_alive{link}` and the mean of `gateway_latency{link}`
/// (ms). `None` when this mirror does not probe it (a standby replica, or
/// a gatewayless Link).
pub fn from_metrics(text: &str, link: &str) -> Option<Health> {
    let labels = format!("{{link=\"{link}\"}}");
    let value = |metric: &str| {
        let prefix = format!("{metric}{labels} ");
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse::<f64>().ok())
    };
    let alive = value("gateway_alive")? >= 1.0;
    let latency = match (value("gateway_latency_sum"), value("gateway_latency_count")) {
        (Some(sum), Some(count)) if alive && count > 0.0 => {
            Some(format!("{}ms", (sum / count).round()))
        }
        _ => None,
    };
    Some(Health {
        alive,
        latency,
        why: (!alive).then(|| "its service mirror's probe fails (gateway_alive is 0)".to_string()),
        seen: Seen::ByMirror,
    })
}

#[cfg(test)]
mod tests;
