use super::*;

#[tokio::test]
async fn a_connection_that_was_not_redirected_has_no_original_destination() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let _client = client.unwrap();
    let (server, _) = accepted.unwrap();
    assert_eq!(original_dst(&server), None);
}
