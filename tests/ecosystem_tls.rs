//! TLS on goro's sockets with futures-rustls, unchanged: goro's `TcpStream` implements the
//! futures-io `AsyncRead`/`AsyncWrite` traits that futures-rustls wraps, so a TLS server and a
//! TLS client need no glue. The certificates are made at test time (rcgen), so nothing expires
//! and nothing is read from the network.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use futures_rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer, ServerName};
use futures_rustls::rustls::{self, CertificateError, ClientConfig, RootCertStore, ServerConfig};
use futures_rustls::{TlsAcceptor, TlsConnector};
use goro::net::{TcpListener, TcpStream};

mod common;
use common::Watchdog;

/// How many clients talk to the server at once.
const CLIENTS: usize = 16;
/// Bytes each client sends: several TLS records (16 KiB each) and more than a socket buffer.
const REQUEST_LEN: usize = 200 * 1024;
/// A bound for one whole test, far above its ideal time: a hang fails in seconds, not never.
const WATCHDOG: Duration = Duration::from_secs(60);
/// A bound for one connection's exchange.
const IO_BOUND: Duration = Duration::from_secs(30);

/// A self-signed certificate for `localhost`, issued by and to `issuer`, and its private key.
fn self_signed(issuer: &str) -> (CertificateDer<'static>, PrivatePkcs8KeyDer<'static>) {
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, issuer);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    (
        cert.der().clone(),
        PrivatePkcs8KeyDer::from(key.serialize_der()),
    )
}

fn acceptor(cert: CertificateDer<'static>, key: PrivatePkcs8KeyDer<'static>) -> TlsAcceptor {
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key.into())
        .unwrap();
    TlsAcceptor::from(Arc::new(config))
}

/// A connector that trusts exactly `roots`.
fn connector(roots: &[CertificateDer<'static>]) -> TlsConnector {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let config = ClientConfig::builder()
        .with_root_certificates(store)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

/// The client's request body: `len` bytes that depend on the client's number.
fn request(client: usize, len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + client) as u8).collect()
}

/// The server's answer to `body`: a greeting, then every byte plus one.
fn answer(body: &[u8]) -> Vec<u8> {
    let mut out = format!("hello, {} bytes\n", body.len()).into_bytes();
    out.extend(body.iter().map(|b| b.wrapping_add(1)));
    out
}

/// One server connection: TLS handshake, read a length-prefixed request, write the answer,
/// close the TLS session (close_notify, then the write half of the socket).
async fn serve(acceptor: TlsAcceptor, tcp: TcpStream) -> io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    let mut len = [0u8; 8];
    tls.read_exact(&mut len).await?;
    let mut body = vec![0u8; u64::from_be_bytes(len) as usize];
    tls.read_exact(&mut body).await?;
    tls.write_all(&answer(&body)).await?;
    tls.close().await
}

/// One client: connect, handshake, send a request, read the answer to the end.
async fn client(connector: TlsConnector, port: u16, n: usize) -> io::Result<Vec<u8>> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
    let name = ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await?;
    let body = request(n, REQUEST_LEN);
    tls.write_all(&(body.len() as u64).to_be_bytes()).await?;
    tls.write_all(&body).await?;
    tls.flush().await?;
    let mut back = Vec::new();
    tls.read_to_end(&mut back).await?;
    Ok(back)
}

#[goro::test]
async fn tls_server_and_clients_exchange_data_both_ways_concurrently() {
    let _watchdog = Watchdog::arm("tls exchange", WATCHDOG);
    let (cert, key) = self_signed("goro test server");
    let acceptor = acceptor(cert.clone(), key);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = goro::spawn(async move {
        let mut conns = Vec::new();
        for _ in 0..CLIENTS {
            let (tcp, _) = listener.accept().await?;
            conns.push(goro::spawn(serve(acceptor.clone(), tcp)));
        }
        for conn in conns {
            conn.await.expect("server task panicked")?;
        }
        io::Result::Ok(())
    });

    let connector = connector(&[cert]);
    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| goro::spawn(client(connector.clone(), port, n)))
        .collect();
    for (n, c) in clients.into_iter().enumerate() {
        let back = goro::time::timeout(IO_BOUND, c)
            .await
            .expect("a client finishes in time")
            .unwrap()
            .unwrap_or_else(|e| panic!("client {n}: {e}"));
        assert_eq!(back, answer(&request(n, REQUEST_LEN)), "client {n}");
    }
    goro::time::timeout(IO_BOUND, server)
        .await
        .expect("the server finishes in time")
        .unwrap()
        .unwrap();
}

/// Runs a server with `cert` that accepts one TLS connection and a client that trusts `roots`
/// and expects the server to be `name`; returns how each side's handshake ended.
async fn handshake(
    (cert, key): (CertificateDer<'static>, PrivatePkcs8KeyDer<'static>),
    roots: &[CertificateDer<'static>],
    name: &'static str,
) -> (io::Result<()>, io::Result<()>) {
    let acceptor = acceptor(cert, key);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = goro::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        let mut tls = acceptor.accept(tcp).await?;
        // A handshake the client rejected ends here at the latest: the client's alert or
        // its closing of the socket surfaces as an error or EOF, never as a wait.
        let mut rest = Vec::new();
        tls.read_to_end(&mut rest).await.map(drop)
    });
    let connector = connector(roots);
    let client = async {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        let name = ServerName::try_from(name).unwrap();
        let mut tls = connector.connect(name, tcp).await?;
        tls.close().await
    };
    let client = goro::time::timeout(IO_BOUND, client)
        .await
        .expect("the client's handshake ends in time");
    let server = goro::time::timeout(IO_BOUND, server)
        .await
        .expect("the server's handshake ends in time")
        .unwrap();
    (client, server)
}

/// The rustls error inside an `io::Error` from futures-rustls.
fn rustls_error(e: &io::Error) -> &rustls::Error {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .unwrap_or_else(|| panic!("not a rustls error: {e:?}"))
}

/// Both sides of a handshake the client rejected: the client's error is `InvalidData` with
/// the certificate problem inside; the server hears of it through the client's alert.
fn assert_rejected(
    (client, server): (io::Result<()>, io::Result<()>),
    expected: impl Fn(&CertificateError) -> bool,
) {
    let err = client.expect_err("the client must reject the server's certificate");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err:?}");
    match rustls_error(&err) {
        rustls::Error::InvalidCertificate(e) if expected(e) => {}
        other => panic!("unexpected client error: {other:?}"),
    }
    let err = server.expect_err("the server's side must fail too");
    assert!(
        matches!(rustls_error(&err), rustls::Error::AlertReceived(_)),
        "{err:?}"
    );
}

#[goro::test]
async fn a_client_that_does_not_trust_the_certificate_gets_a_clear_error() {
    let _watchdog = Watchdog::arm("untrusted certificate", WATCHDOG);
    // The client trusts another self-signed certificate, not the server's.
    let (stranger, _) = self_signed("another issuer");
    let result = handshake(self_signed("goro test server"), &[stranger], "localhost").await;
    assert_rejected(result, |e| *e == CertificateError::UnknownIssuer);
}

#[goro::test]
async fn a_certificate_for_another_name_is_rejected() {
    let _watchdog = Watchdog::arm("wrong name", WATCHDOG);
    // The client trusts the server's certificate, but it was made for localhost.
    let (cert, key) = self_signed("goro test server");
    let result = handshake((cert.clone(), key), &[cert], "example.com").await;
    assert_rejected(result, |e| {
        matches!(
            e,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        )
    });
}

#[goro::test]
async fn a_trusted_certificate_for_the_right_name_is_accepted() {
    let _watchdog = Watchdog::arm("trusted certificate", WATCHDOG);
    // The control case of the two above: the same helper, a certificate the client trusts.
    let (cert, key) = self_signed("goro test server");
    let (client, server) = handshake((cert.clone(), key), &[cert], "localhost").await;
    client.unwrap();
    server.unwrap();
}
