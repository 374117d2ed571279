#!/usr/bin/env python3
"""Servers goro did not write, for tests/http_fetch.rs.

    servers.py MODE [ARGS...]

Each binds 127.0.0.1 on a free port, prints the port on the first line of stdout, and
serves until it is killed. Modes:

    files DIR           python's http.server serving DIR, HTTP/1.1 (keep-alive); it logs one
                        line per new connection to stderr ("conn")
    tricks              chunked bodies, redirects (chains, relative, a loop, 303/307 that
                        show the method they end with)
    garbage             answers every request with bytes that are not HTTP
    silent              accepts, reads the request, never answers
    short               promises Content-Length: 100 and sends 10 bytes, then closes
    closing             answers one request per connection with a complete HTTP/1.1
                        response that does not say "Connection: close", and closes the
                        connection 0.2 s later without reading more
    tls CERT KEY DIR    the files server over TLS with CERT and KEY
"""

import http.server
import os
import socket
import ssl
import sys
import threading
import time


class Quiet(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        sys.stderr.write("conn\n")
        sys.stderr.flush()

    def log_message(self, *args):
        pass


class Tricks(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body=b"", headers=()):
        self.send_response(code)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def chunked(self, parts):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in parts:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def handle_any(self):
        path = self.path
        if path == "/chunked":
            # 5 chunks of 1000 bytes: 5000 bytes in all.
            self.chunked([bytes([ord("a") + i]) * 1000 for i in range(5)])
        elif path.startswith("/chain/"):
            n = int(path.rsplit("/", 1)[1])
            if n == 0:
                self.reply(200, b"end of chain\n")
            else:
                # Relative: /chain/3 -> /chain/2 -> ... -> /chain/0.
                self.reply(302, headers=[("Location", str(n - 1))])
        elif path == "/rel/a/b":
            self.reply(301, headers=[("Location", "../target?x=1")])
        elif path == "/rel/target?x=1":
            self.reply(200, b"relative ok\n")
        elif path == "/loop":
            self.reply(302, headers=[("Location", "/loop")])
        elif path == "/303":
            self.reply(303, headers=[("Location", "/method")])
        elif path == "/307":
            self.reply(307, headers=[("Location", "/method")])
        elif path == "/308":
            self.reply(308, headers=[("Location", "/method")])
        elif path == "/method":
            self.reply(200, self.command.encode())
        elif path == "/missing":
            self.reply(404, b"not here\n")
        else:
            self.reply(200, b"tricks\n")

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(http.server.ThreadingHTTPServer):
    # socketserver's default backlog is 5: 50 connects at once would see SYNs dropped.
    request_queue_size = 256
    daemon_threads = True


def http_server(handler, directory=None, tls=None):
    if directory is not None:
        def factory(*args, **kwargs):
            return handler(*args, directory=directory, **kwargs)
    else:
        factory = handler
    server = Server(("127.0.0.1", 0), factory)
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    announce(server.server_address[1])
    server.serve_forever()


def announce(port):
    print(port, flush=True)


def raw_server(handle):
    """A bare TCP server: `handle(conn)` runs on a thread per connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(256)
    announce(sock.getsockname()[1])
    while True:
        conn, _ = sock.accept()
        threading.Thread(target=handle, args=(conn,), daemon=True).start()


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        more = conn.recv(4096)
        if not more:
            break
        data += more
    return data


def garbage(conn):
    read_head(conn)
    conn.sendall(b"\x00\x01 this is not HTTP at all \xff\xfe\r\n\r\n")
    conn.close()


def silent(conn):
    read_head(conn)
    # Never answer; keep the connection open until the client gives up.
    while conn.recv(4096):
        pass
    conn.close()


def short(conn):
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    conn.shutdown(socket.SHUT_WR)
    conn.close()


def closing(conn):
    read_head(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye")
    # Close a moment later, as a server's idle timeout would: the client has usually sent
    # its next request on this connection by then.
    time.sleep(0.2)
    conn.close()


def main():
    mode = sys.argv[1]
    if mode == "files":
        http_server(Quiet, directory=sys.argv[2])
    elif mode == "tricks":
        http_server(Tricks)
    elif mode == "garbage":
        raw_server(garbage)
    elif mode == "silent":
        raw_server(silent)
    elif mode == "short":
        raw_server(short)
    elif mode == "closing":
        raw_server(closing)
    elif mode == "tls":
        http_server(Quiet, directory=sys.argv[4], tls=(sys.argv[2], sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
