//! Connections to the application for the pools of downgraded requests.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use strait_proxy_http::pool::PooledIo;
use tokio::net::TcpStream;

/// A connection to the application, as the pool holds it.
pub(crate) type AppConnection = PooledIo<TcpStream>;

/// Connects to the application's address whatever the request's URI names
/// (the pool belongs to one client connection, so to one application port).
#[derive(Clone, Debug)]
pub(crate) struct AppConnector {
    pub(crate) app: SocketAddr,
    pub(crate) connect_timeout: Duration,
    /// Whether requests keep their absolute-form target (the pool then acts
    /// as a forward proxy's client would).
    pub(crate) absolute_form: bool,
}

impl tower::Service<Uri> for AppConnector {
    type Response = AppConnection;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<AppConnection>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: Uri) -> Self::Future {
        let AppConnector {
            app,
            connect_timeout,
            absolute_form,
        } = self.clone();
        Box::pin(async move {
            let stream = match tokio::time::timeout(connect_timeout, TcpStream::connect(app)).await
            {
                Ok(connected) => connected?,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("connecting to the application at {app} timed out"),
                    ));
                }
            };
            // Small requests and responses should not wait for Nagle.
            let _ = stream.set_nodelay(true);
            Ok(PooledIo::new(stream).absolute_form(absolute_form))
        })
    }
}
