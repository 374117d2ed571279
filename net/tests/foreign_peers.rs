//! goro talking to peers it did not write: Python's `socket` module, as client and server.
//! (The std-thread peers are in `tcp.rs` and `unix.rs`.) Skipped, saying so, without python3.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{have_python, runtime, temp_dir, watchdog};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use goro_net::{TcpListener, TcpStream, UnixListener};

/// A Python client: connects, sends 200 lines, checks each comes back, prints "ok".
const PY_TCP_CLIENT: &str = r#"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rwb")
for i in range(200):
    line = b"line %d\n" % i
    f.write(line); f.flush()
    assert f.readline() == line, i
s.shutdown(socket.SHUT_WR)
assert f.read() == b""
print("ok")
"#;

/// A Python server: prints its port, then answers each connection's bytes upper-cased.
const PY_TCP_SERVER: &str = r#"
import socket
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(16)
print(srv.getsockname()[1], flush=True)
srv.settimeout(20)
for _ in range(3):
    c, _ = srv.accept()
    c.settimeout(20)
    data = b""
    while True:
        chunk = c.recv(65536)
        if not chunk:
            break
        data += chunk
    c.sendall(data.upper())
    c.close()
"#;

/// A Python Unix-socket client: sends a line, expects it back, prints "ok".
const PY_UNIX_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
s.sendall(b"from python\n")
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(100)
    if not chunk:
        break
    data += chunk
assert data == b"from python\n", data
print("ok")
"#;

/// Echoes every connection on `listener` until the runtime is dropped.
async fn echo_tcp(listener: TcpListener) {
    loop {
        let (mut conn, _) = listener.accept().await.unwrap();
        goro_runtime::spawn(async move {
            let mut buf = [0; 4096];
            loop {
                match conn.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if conn.write_all(&buf[..n]).await.is_err() {
                            break;
                        }
                    }
                }
            }
        });
    }
}

#[test]
fn a_python_client_talks_to_a_goro_server() {
    if !have_python() {
        return;
    }
    watchdog(60, || {
        let rt = runtime(2);
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let port = listener.local_addr().unwrap().port();
        let _server = rt.spawn(echo_tcp(listener));
        // Two clients at once, from outside the process.
        let clients: Vec<_> = (0..2)
            .map(|_| {
                Command::new("python3")
                    .args(["-c", PY_TCP_CLIENT, &port.to_string()])
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in clients {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
        }
    });
}

#[test]
fn a_goro_client_talks_to_a_python_server() {
    if !have_python() {
        return;
    }
    watchdog(60, || {
        let mut server = Command::new("python3")
            .args(["-c", PY_TCP_SERVER])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(server.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port: u16 = line.trim().parse().unwrap();
        let rt = runtime(2);
        rt.block_on(async {
            for (i, host) in ["127.0.0.1", "localhost", "127.0.0.1"].iter().enumerate() {
                let mut c = TcpStream::connect((*host, port)).await.unwrap();
                let msg = format!("hello python {i} ").repeat(1000);
                c.write_all(msg.as_bytes()).await.unwrap();
                c.close().await.unwrap(); // half-close: Python reads EOF, then replies
                let mut reply = String::new();
                c.read_to_string(&mut reply).await.unwrap();
                assert_eq!(reply, msg.to_uppercase());
            }
        });
        assert!(server.wait().unwrap().success());
    });
}

#[test]
fn a_python_unix_client_talks_to_a_goro_unix_server() {
    if !have_python() {
        return;
    }
    let dir = temp_dir("py");
    let path = dir.join("py.sock");
    watchdog(60, || {
        let rt = runtime(2);
        let listener = rt.block_on(async { UnixListener::bind(&path) }).unwrap();
        let server = rt.spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut data = Vec::new();
            conn.read_to_end(&mut data).await.unwrap();
            conn.write_all(&data).await.unwrap();
        });
        let out = Command::new("python3")
            .args(["-c", PY_UNIX_CLIENT, path.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
        rt.block_on(server).unwrap();
    });
    std::fs::remove_dir_all(dir).unwrap();
}
