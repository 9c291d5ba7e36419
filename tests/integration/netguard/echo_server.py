#!/usr/bin/python3
"""Test HTTP server for the netguard namespace tests: answers every GET with "<label> <client address>".

usage: echo_server.py BIND_ADDR PORT LABEL READY_FILE
Binding "::" accepts IPv4 too (reported without the ::ffff: prefix). READY_FILE is created once listening.
"""
import http.server
import socket
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so tests can hold a connection open

    def do_GET(self):
        client = self.client_address[0]
        if client.startswith("::ffff:"):
            client = client[len("::ffff:"):]
        body = f"{LABEL} {client}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    bind, port, LABEL, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    Server.address_family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    server = Server((bind, port), Handler)
    open(ready, "w").close()
    server.serve_forever()
