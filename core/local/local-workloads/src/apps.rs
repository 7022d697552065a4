//! The built-in images at work: bb's `terminus` HTTP server,
//! slow_cooker's open-loop HTTP client and jmalloc/echo-server, each a task
//! of the Pod running it.

mod bb;
mod echo;
mod load;
mod report;
mod resolve;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::images::{SlowCooker, Terminus};
use crate::logs::ContainerLog;
use load::{Counts, Ending, Ticks};
use report::{Outcome, Report};

pub(crate) use echo::serve_echo;
pub use load::{LoadCounts, LoadTotals};
pub(crate) use resolve::{Dial, DialError};

/// How long a connection attempt may take before the request counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// A task stopped when this is dropped: what ties an app's tasks to its Pod.
#[derive(Debug)]
pub(crate) struct Task(pub(crate) JoinHandle<()>);

impl Drop for Task {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Serves bb's `terminus` on `listener` until dropped: every request is
/// answered 200 with the response text (or 500 for the configured share),
/// and logged to `log` as bb logs it.
pub(crate) fn serve_terminus(listener: TcpListener, terminus: Terminus, log: ContainerLog) -> Task {
    let terminus = Arc::new(terminus);
    let served = Arc::new(AtomicU64::new(0));
    log.write(&bb::listening(&terminus, SystemTime::now()));
    Task(tokio::spawn(async move {
        // Connections live in the set, so stopping the server stops them.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(serve_connection(stream, terminus.clone(), served.clone(), log.clone()));
                    }
                    Err(err) => {
                        tracing::warn!("terminus cannot accept: {err}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    }))
}

async fn serve_connection(
    stream: TcpStream,
    terminus: Arc<Terminus>,
    served: Arc<AtomicU64>,
    log: ContainerLog,
) {
    let service = hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
        let terminus = terminus.clone();
        let n = served.fetch_add(1, Ordering::Relaxed);
        let log = log.clone();
        async move {
            let id = bb::config_id(&terminus);
            let uid = bb::request_uid(&id, SystemTime::now());
            log.write(&bb::received(&uid, SystemTime::now()));
            if !terminus.delay.is_zero() {
                tokio::time::sleep(terminus.delay).await;
            }
            let fail = n % 100 < u64::from(terminus.percentage_failure);
            let mut response = Response::new(Full::new(Bytes::from(
                terminus.response_text.clone().into_bytes(),
            )));
            if fail {
                *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                log.write(&bb::injected_failure(&id, SystemTime::now()));
            } else {
                let target = request.uri().to_string();
                let method = request.method().as_str();
                let line = bb::answered(
                    &uid,
                    method,
                    &target,
                    &terminus.response_text,
                    SystemTime::now(),
                );
                log.write(&line);
            }
            Ok::<_, std::convert::Infallible>(response)
        }
    });
    if let Err(err) = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!("terminus connection ended: {err}");
    }
}

/// One kept-alive connection and the task driving it.
struct Connection {
    sender: SendRequest<Empty<Bytes>>,
    _driver: Task,
}

/// Everything a slow_cooker worker shares with its requests.
struct Worker {
    cooker: Arc<SlowCooker>,
    dial: Arc<Dial>,
    source: IpAddr,
    idle: Mutex<Vec<Connection>>,
    counts: Arc<Counts>,
    sent: Arc<AtomicU64>,
    pod: String,
    report: Arc<Report>,
    log: ContainerLog,
}

/// Runs slow_cooker until dropped: after its start delay, `concurrency`
/// workers each send `qps` requests a second, open loop (a request is sent
/// on schedule whether or not earlier ones answered), from `source`. What
/// it prints goes to `log`: slow_cooker's header, a line every interval
/// and, once it has sent `-totalRequests`, its latency summary.
pub(crate) fn run_slow_cooker(
    cooker: SlowCooker,
    dial: Dial,
    source: IpAddr,
    pod: String,
    log: ContainerLog,
) -> (Task, LoadCounts) {
    let counts = LoadCounts::default();
    let shared = counts.0.clone();
    shared.schedule(
        u64::from(cooker.qps) * u64::from(cooker.concurrency),
        cooker.timeout,
    );
    let task = tokio::spawn(async move {
        tokio::time::sleep(cooker.start_delay).await;
        tracing::info!(
            %pod, url = %cooker.url.authority, qps = cooker.qps, concurrency = cooker.concurrency,
            "slow_cooker sending"
        );
        log.write(&report::header(&cooker));
        let report = Arc::new(Report::new(&cooker));
        let cooker = Arc::new(cooker);
        let dial = Arc::new(dial);
        let sent = Arc::new(AtomicU64::new(0));
        let mut workers = JoinSet::new();
        for _ in 0..cooker.concurrency {
            let worker = Arc::new(Worker {
                cooker: cooker.clone(),
                dial: dial.clone(),
                source,
                idle: Mutex::new(Vec::new()),
                counts: shared.clone(),
                sent: sent.clone(),
                pod: pod.clone(),
                report: report.clone(),
                log: log.clone(),
            });
            workers.spawn(work(worker));
        }
        report_until_done(&cooker, &report, &log, workers, &pod).await;
        std::future::pending::<()>().await;
    });
    (Task(task), counts)
}

/// Prints a line every interval while the workers send; once they have all
/// finished (`-totalRequests`), the last interval's line and the summary,
/// as slow_cooker prints them on its way out.
async fn report_until_done(
    cooker: &SlowCooker,
    report: &Report,
    log: &ContainerLog,
    mut workers: JoinSet<()>,
    pod: &str,
) {
    let mut ticker = tokio::time::interval(cooker.interval);
    ticker.tick().await;
    let mut sending = true;
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                log.write(&report.interval_line(SystemTime::now()));
                if !sending {
                    log.write(&report.summary());
                    return;
                }
            }
            next = workers.join_next(), if sending => if next.is_none() {
                tracing::info!(%pod, "slow_cooker sent all its requests");
                sending = false;
            },
        }
    }
}

async fn work(worker: Arc<Worker>) {
    let period = Duration::from_secs_f64(1.0 / f64::from(worker.cooker.qps.max(1)));
    let mut ticker = tokio::time::interval(period);
    // Open loop without bursts: a tick whose time passed while the worker
    // could not run is skipped, and counted as not sent.
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut ticks = Ticks::new(ticker.tick().await, period);
    let mut requests = JoinSet::new();
    let mut due = None;
    loop {
        if let Some(at) = due {
            let missed = ticks.missed_before(at);
            if missed > 0 {
                worker.counts.not_sent(missed);
            }
        }
        while requests.try_join_next().is_some() {}
        if let Some(total) = worker.cooker.total_requests
            && worker.sent.fetch_add(1, Ordering::Relaxed) >= total
        {
            while requests.join_next().await.is_some() {}
            return;
        }
        let sequence = worker.counts.sent();
        requests.spawn(one_request(worker.clone(), sequence));
        due = Some(ticker.tick().await);
    }
}

async fn one_request(worker: Arc<Worker>, sequence: u64) {
    let outcome = tokio::time::timeout(worker.cooker.timeout, send(&worker)).await;
    let (status, latency) = match outcome {
        Ok(Ok(answered)) => answered,
        Ok(Err(why)) => {
            return no_answer(&worker, sequence, Ending::ConnectionError, &why.to_string());
        }
        Err(_) => return no_answer(&worker, sequence, Ending::Timeout, "timed out"),
    };
    worker.report.record(Outcome::Answered {
        status: status.as_u16(),
        latency,
    });
    let why = RequestError::Status(status).to_string();
    if worker
        .counts
        .ended(sequence, Ending::Status(status), Some(&why))
    {
        failing(&worker, &why);
    } else if worker.counts.failing.swap(false, Ordering::Relaxed) {
        tracing::info!(pod = %worker.pod, "slow_cooker requests succeed again");
    }
}

/// A request that got no answer: counted failed, and printed as Go's HTTP
/// client words its error (`Get "http://…": …`), as slow_cooker prints it.
fn no_answer(worker: &Worker, sequence: u64, ending: Ending, why: &str) {
    worker.report.record(Outcome::Failed);
    let method = &worker.cooker.method;
    let op = match method.split_at_checked(1) {
        Some((first, rest)) => format!("{first}{}", rest.to_ascii_lowercase()),
        None => method.clone(),
    };
    worker
        .log
        .write(&format!("{op} {:?}: {why}", worker.cooker.url.text));
    worker.counts.ended(sequence, ending, Some(why));
    failing(worker, why);
}

fn failing(worker: &Worker, why: &str) {
    if !worker.counts.failing.swap(true, Ordering::Relaxed) {
        tracing::warn!(pod = %worker.pod, url = %worker.cooker.url.authority, "slow_cooker requests fail: {why}");
    } else {
        tracing::debug!(pod = %worker.pod, "slow_cooker request failed: {why}");
    }
}

/// Why one slow_cooker request failed; counted and logged, never fatal.
#[derive(Debug, thiserror::Error)]
enum RequestError {
    /// No address to connect to.
    #[error(transparent)]
    Dial(#[from] DialError),
    /// The endpoint did not accept within the connect timeout.
    #[error("connecting to {to} timed out")]
    ConnectTimeout {
        /// The endpoint.
        to: SocketAddr,
    },
    /// The endpoint refused or the network failed.
    #[error("cannot connect to {to}: {source}")]
    Connect {
        /// The endpoint.
        to: SocketAddr,
        /// What the socket said.
        #[source]
        source: std::io::Error,
    },
    /// The connection did not start HTTP/1.1.
    #[error("HTTP/1.1 handshake with {to} failed: {source}")]
    Handshake {
        /// The endpoint.
        to: SocketAddr,
        /// What hyper said.
        #[source]
        source: hyper::Error,
    },
    /// The method, path or a header does not make a request.
    #[error("bad request: {0}")]
    Build(#[source] hyper::http::Error),
    /// The connection closed before the request could be sent.
    #[error("connection lost: {0}")]
    ConnectionLost(#[source] hyper::Error),
    /// Sending the request or reading the response head failed.
    #[error("request failed: {0}")]
    Send(#[source] hyper::Error),
    /// Reading the response body failed.
    #[error("response body failed: {0}")]
    Body(#[source] hyper::Error),
    /// The server answered, but not with success.
    #[error("answered {0}")]
    Status(StatusCode),
}

/// Sends one request; its status and how long the answer's head took
/// (connecting included, as slow_cooker measures to the first byte).
async fn send(worker: &Worker) -> Result<(StatusCode, Duration), RequestError> {
    let started = Instant::now();
    let idle = {
        let mut idle = worker.idle.lock();
        idle.retain(|c| !c.sender.is_closed());
        idle.pop()
    };
    let mut connection = match idle {
        Some(c) => c,
        None => connect(worker).await?,
    };
    let cooker = &worker.cooker;
    let host = cooker
        .host_header
        .clone()
        .unwrap_or_else(|| cooker.url.authority.clone());
    let mut request = Request::builder()
        .method(cooker.method.as_str())
        .uri(cooker.url.path.as_str())
        .header(hyper::header::HOST, host);
    for (name, value) in &cooker.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if cooker.no_reuse {
        request = request.header(hyper::header::CONNECTION, "close");
    }
    let request = request
        .body(Empty::<Bytes>::new())
        .map_err(RequestError::Build)?;
    connection
        .sender
        .ready()
        .await
        .map_err(RequestError::ConnectionLost)?;
    let response = connection
        .sender
        .send_request(request)
        .await
        .map_err(RequestError::Send)?;
    let status = response.status();
    let latency = started.elapsed();
    response
        .into_body()
        .collect()
        .await
        .map_err(RequestError::Body)?;
    if !cooker.no_reuse {
        worker.idle.lock().push(connection);
    }
    Ok((status, latency))
}

async fn connect(worker: &Worker) -> Result<Connection, RequestError> {
    let to = worker.dial.next()?;
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect_from(worker.source, to))
        .await
        .map_err(|_| RequestError::ConnectTimeout { to })?
        .map_err(|source| RequestError::Connect { to, source })?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|source| RequestError::Handshake { to, source })?;
    let driver = Task(tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::debug!("slow_cooker connection ended: {err}");
        }
    }));
    Ok(Connection {
        sender,
        _driver: driver,
    })
}

/// A connection leaving from the Pod's address, so servers see who calls.
pub(crate) async fn connect_from(source: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = match source {
        IpAddr::V4(_) => TcpSocket::new_v4()?,
        IpAddr::V6(_) => TcpSocket::new_v6()?,
    };
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(to).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}
