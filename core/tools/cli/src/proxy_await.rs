//! `strait proxy-await`: the proxy container's start hook in an injected
//! pod, as Linkerd's `linkerd-await`. The kubelet starts a pod's containers
//! one after another, each once the previous one's start hook returns; the
//! proxy comes first, so waiting here for its `/ready` keeps the
//! application from starting before the proxy that its connections are
//! redirected to.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use strait_mesh::names::READY_PATH;
use strait_mesh::ports::ADMIN_PORT;

/// Arguments of `strait proxy-await`.
#[derive(clap::Args)]
pub struct ProxyAwaitArgs {
    /// The proxy's admin address, where `/ready` is served.
    #[arg(long, default_value_t = SocketAddr::from((Ipv4Addr::LOCALHOST, ADMIN_PORT)))]
    admin_addr: SocketAddr,
    /// How long to wait before giving up (exit 1), e.g. `2m`, `30s`.
    #[arg(long, default_value = "2m", value_parser = parse_timeout)]
    timeout: Duration,
}

/// How often `/ready` is asked while the proxy is not ready.
const POLL: Duration = Duration::from_millis(100);

/// Waits for the proxy to be ready; exit 0 once it is, 1 at the timeout.
pub fn run(args: ProxyAwaitArgs) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(await_ready(args.admin_addr, args.timeout)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Asks `/ready` every [`POLL`] until it answers 200 or `timeout` passes;
/// the error says what the last attempt saw.
async fn await_ready(admin: SocketAddr, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match tokio::time::timeout(POLL * 10, ready_status(admin)).await {
            Ok(Ok(200)) => return Ok(()),
            Ok(Ok(status)) => format!("/ready answered {status}"),
            Ok(Err(e)) => e,
            Err(_) => "/ready did not answer within 1s".to_string(),
        };
        if Instant::now() + POLL >= deadline {
            return Err(format!(
                "the proxy at {admin} was not ready within {timeout:?}: {last}"
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The status of one `GET /ready`.
async fn ready_status(admin: SocketAddr) -> Result<u16, String> {
    let stream = tokio::net::TcpStream::connect(admin)
        .await
        .map_err(|e| format!("connecting to {admin}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("talking to {admin}: {e}"))?;
    let connection = tokio::spawn(connection);
    let request = hyper::Request::get(READY_PATH)
        .header(hyper::header::HOST, admin.to_string())
        .body(Empty::<Bytes>::new())
        .map_err(|e| format!("building the request: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("GET {READY_PATH} from {admin}: {e}"));
    connection.abort();
    Ok(response?.status().as_u16())
}

/// A duration as `2m`, `30s`, `1500ms` or `1h`.
fn parse_timeout(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?} has no unit (ms, s, m or h)"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} does not start with a number"))?;
    let unit = match unit {
        "ms" => Duration::from_millis(1),
        "s" => Duration::from_secs(1),
        "m" => Duration::from_secs(60),
        "h" => Duration::from_secs(3600),
        other => {
            return Err(format!(
                "{other:?} in {text:?} is not a unit (ms, s, m or h)"
            ));
        }
    };
    unit.checked_mul(u32::try_from(number).map_err(|_| format!("{text:?} is too long"))?)
        .ok_or_else(|| format!("{text:?} is too long"))
}

#[cfg(test)]
mod tests;
