//! Go's canonical network program through the facade: `net.Listen`, a goroutine per
//! connection, `net.Dial` with a deadline.

use std::time::Duration;

use goro::io::{AsyncReadExt, AsyncWriteExt};
use goro::net::{TcpListener, TcpStream};

#[goro::test]
async fn a_goroutine_per_connection_echo_server_serves_concurrent_clients() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = goro::spawn(async move {
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            goro::spawn(async move {
                let (mut rd, mut wr) = (&conn, &conn);
                let _ = goro::io::copy(&mut rd, &mut wr).await;
                let _ = conn.close().await;
            });
        }
    });
    let clients: Vec<_> = (0..20)
        .map(|i| {
            goro::spawn(async move {
                // `net.DialTimeout`: a host name, resolved off the workers, under a deadline.
                let mut c = goro::time::timeout(
                    Duration::from_secs(10),
                    TcpStream::connect(("localhost", port)),
                )
                .await
                .expect("dial in time")
                .unwrap();
                let msg = format!("client {i}");
                c.write_all(msg.as_bytes()).await.unwrap();
                c.close().await.unwrap();
                let mut back = String::new();
                c.read_to_string(&mut back).await.unwrap();
                assert_eq!(back, msg);
            })
        })
        .collect();
    for c in clients {
        goro::time::timeout(Duration::from_secs(30), c)
            .await
            .expect("no client hangs")
            .unwrap();
    }
    // The accept loop never ends by itself: stop it, or the test's leak check fails.
    server.abort();
}
