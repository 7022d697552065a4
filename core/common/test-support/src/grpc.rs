//! gRPC services on loopback, reached over real sockets as proxies reach
//! the control plane.
//!
//! Every test of a gRPC service bound a listener, spawned a tonic server on
//! it and connected a client in the same dozen lines; here that is one
//! call on each side.

use std::net::SocketAddr;

use tokio::net::TcpListener;
use tonic::service::Routes;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Endpoint, Server};

use crate::net::any_port;

/// Serves `routes` (`Routes::new(service)`, then `.add_service(..)` for
/// more) on a fresh loopback port, for as long as the runtime runs; its
/// address.
pub async fn serve(routes: Routes) -> SocketAddr {
    let listener = match TcpListener::bind(any_port()).await {
        Ok(listener) => listener,
        Err(e) => panic!("cannot bind a loopback port: {e}"),
    };
    let addr = match listener.local_addr() {
        Ok(addr) => addr,
        Err(e) => panic!("a bound listener has no address: {e}"),
    };
    tokio::spawn(async move {
        let served = Server::builder()
            .add_routes(routes)
            .serve_with_incoming(TcpIncoming::from(listener))
            .await;
        if let Err(e) = served {
            panic!("the gRPC server on {addr} failed: {e}");
        }
    });
    addr
}

/// A channel connected to the server at `addr`, for any client type
/// (`XClient::new(channel)`).
pub async fn channel(addr: SocketAddr) -> Channel {
    let endpoint = match Endpoint::from_shared(format!("http://{addr}")) {
        Ok(endpoint) => endpoint,
        Err(e) => panic!("{addr} is no endpoint: {e}"),
    };
    match endpoint.connect().await {
        Ok(channel) => channel,
        Err(e) => panic!("cannot connect to {addr}: {e}"),
    }
}

#[cfg(test)]
mod tests;
