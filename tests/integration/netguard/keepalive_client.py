#!/usr/bin/python3
"""Holds one HTTP/1.1 connection open across a netguard change.

usage: keepalive_client.py HOST PORT GO_FILE
Sends GET /, prints "1:<body>", waits (at most 10 s) for GO_FILE to exist, sends a second GET on the SAME
connection and prints "2:<body>", "2:RESET", "2:TIMEOUT" or "2:CLOSED".
"""
import http.client
import os
import socket
import sys
import time

host, port, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection(host, port, timeout=2)
conn.request("GET", "/")
print("1:" + conn.getresponse().read().decode().strip(), flush=True)
deadline = time.monotonic() + 10
while not os.path.exists(go) and time.monotonic() < deadline:
    time.sleep(0.05)
try:
    conn.request("GET", "/")
    print("2:" + conn.getresponse().read().decode().strip(), flush=True)
except ConnectionResetError:
    print("2:RESET", flush=True)
except (socket.timeout, TimeoutError):
    print("2:TIMEOUT", flush=True)
except (http.client.RemoteDisconnected, BrokenPipeError, http.client.BadStatusLine):
    print("2:CLOSED", flush=True)
except Exception as e:  # anything else is reported, never hidden
    print("2:ERROR " + repr(e), flush=True)
