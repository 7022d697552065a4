use std::net::SocketAddr;

use super::*;
use crate::net::free_port;

#[tokio::test]
async fn a_served_router_is_reached_on_its_address() {
    let addr = serve(Routes::default()).await;
    assert!(addr.ip().is_loopback());
    channel(addr).await;
}

#[tokio::test]
#[should_panic(expected = "cannot connect to 127.0.0.1:")]
async fn a_channel_to_nothing_fails_naming_the_address() {
    channel(SocketAddr::from(([127, 0, 0, 1], free_port()))).await;
}
