//! The applications behind the proxies in the tests and benchmarks, one
//! copy each: an HTTP/1.1 app answering 1 KiB, a TCP echo with the client
//! side of an exchange with it, and a plain TCP relay.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// The benchmarks' app on `listener`: HTTP/1.1 keep-alive, every request
/// answered 200 with 1 KiB.
pub fn kib_app_on(listener: TcpListener) {
    let body = Bytes::from(vec![b'x'; 1024]);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_: Request<hyper::body::Incoming>| {
                    let body = body.clone();
                    async move { Ok::<_, Infallible>(Response::new(Full::new(body))) }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// A TCP echo on `listener`: every byte read is written back, until the
/// client closes.
pub fn echo_app_on(listener: TcpListener) {
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut read, mut write) = stream.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
            });
        }
    });
}

/// Sends `sent` over `stream` and returns what came back before the echo
/// was whole, the connection ended, or 2 s passed: `sent` when an echo
/// answered, less (nothing) when something refused it on the way.
pub async fn echo_exchange<S>(stream: &mut S, sent: &[u8]) -> Vec<u8>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    if stream.write_all(sent).await.is_err() {
        return Vec::new();
    }
    let mut back = Vec::new();
    let mut buf = [0u8; 256];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
    while back.len() < sent.len() {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Ok(Ok(n)) if n > 0 => back.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    back
}

/// A plain TCP relay on one thread, for a benchmark's floor: accepts on
/// `listen` and copies bytes both ways to `target`, nothing parsed, until
/// the process ends. Runs its own runtime: call it from a process of its
/// own, so its CPU and memory are its own.
pub fn run_relay(listen: SocketAddr, target: SocketAddr) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("the relay's runtime: {e}"),
    };
    runtime.block_on(async move {
        let listener = match TcpListener::bind(listen).await {
            Ok(listener) => listener,
            Err(e) => panic!("bind the relay at {listen}: {e}"),
        };
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let _ = client.set_nodelay(true);
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = server.set_nodelay(true);
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
}

/// `LISTEN=TARGET`, as a benchmark passes a relay's addresses to itself
/// run again as the relay.
pub fn relay_spec(spec: &str) -> Result<(SocketAddr, SocketAddr), String> {
    let (listen, target) = spec
        .split_once('=')
        .ok_or_else(|| format!("a relay is LISTEN=TARGET, not {spec:?}"))?;
    let parse = |text: &str| -> Result<SocketAddr, String> {
        text.parse()
            .map_err(|e| format!("relay address {text:?}: {e}"))
    };
    Ok((parse(listen)?, parse(target)?))
}
