#!/usr/bin/env python3
"""Readiness for systemd: with NOTIFY_SOCKET set (as a Type=notify unit has it), lintel sends
READY=1 once it listens (and /health answers then), and STOPPING=1 when SIGTERM arrives."""
import os
import signal
import socket
import subprocess
import tempfile
import urllib.request

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(60)
    env = dict(os.environ, LINTEL_PORT="0", LINTEL_DATA_DIR=os.path.join(tmp, "data"),
               LINTEL_PLUGIN_DIR=os.environ["LINTEL_TEST_PLUGIN_DIR"], NOTIFY_SOCKET=path,
               LINTEL_ADMIN_PASSWORD="admin-password-for-tests", LINTEL_PASSWORD_COST="3")
    os.mkdir(env["LINTEL_DATA_DIR"])
    server = subprocess.Popen([os.environ["LINTEL_TEST_BIN"]], env=env, text=True,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    try:
        msg = sock.recv(4096).decode()
        assert "READY=1" in msg.split("\n"), msg
        # Ready means serving: the URL is in the log already, and /health answers.
        url = None
        for line in server.stderr:
            if "listening on " in line:
                url = line.split("listening on ")[1].strip()
                break
        assert url, "no listening line"
        with urllib.request.urlopen(url + "/health", timeout=30) as r:
            assert r.status == 200
        server.send_signal(signal.SIGTERM)
        msg = sock.recv(4096).decode()
        assert "STOPPING=1" in msg.split("\n"), msg
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
        server.stderr.read()
        code = server.wait(timeout=60)
    assert code == 0, code
print("sd_notify: READY=1 once listening, STOPPING=1 on SIGTERM")
