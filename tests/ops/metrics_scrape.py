#!/usr/bin/env python3
"""GET /metrics against a server of its own (so counters move only by this test's requests):
who may scrape, and a strict parse of the Prometheus text format (0.0.4) before and after known
requests, whose counters must move by exactly those."""
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

BASE = None
SECRET = "s" * 20 + "-metrics-token-for-tests"
ADMIN_PASSWORD = "admin-password-for-tests"

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{((?:{LABEL})(?:,{LABEL})*)?\}})? (\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def request(method, path, token=None, body=None):
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def parse(text):
    """Strict: every line a HELP, a TYPE or a sample of a declared family; values are numbers;
    histograms are cumulative and end at +Inf == _count. Returns {(name, labels): value}."""
    assert text.endswith("\n"), "the text ends with a newline"
    types, helps, samples = {}, {}, {}
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = f"line {n}: {line!r}"
        if line.startswith("# HELP "):
            name, _, doc = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and doc and name not in helps, where
            helps[name] = doc
            continue
        if line.startswith("# TYPE "):
            name, _, kind = line[7:].partition(" ")
            assert re.fullmatch(NAME, name) and name not in types, where
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), where
            types[name] = kind
            continue
        assert not line.startswith("#") and line.strip() == line and line, where
        m = SAMPLE.match(line)
        assert m, where
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{where}: no TYPE before it"
        assert types[family] != "counter" or name.endswith("_total"), where
        v = float(value)  # raises on anything that is not a number
        assert not math.isnan(v) and (types[family] == "gauge" or v >= 0), where
        key = (name, tuple(LABEL_RE.findall(labels)))
        assert key not in samples, f"{where}: duplicate sample"
        samples[key] = v
    for name, kind in types.items():
        assert name in helps, f"{name} has no HELP"
        if kind == "histogram":
            buckets = [(k[1], v) for k, v in samples.items() if k[0] == name + "_bucket"]
            les = [dict(lab)["le"] for lab, _ in buckets]
            assert les[-1] == "+Inf", f"{name}: last bucket is +Inf"
            vals = [v for _, v in buckets]
            assert vals == sorted(vals), f"{name}: buckets are cumulative"
            assert [float(x) for x in les] == sorted(float(x) for x in les), f"{name}: le ascending"
            assert vals[-1] == samples[(name + "_count", ())], f"{name}: +Inf == _count"
    return samples


def requests_total(samples, method, route, status):
    return samples.get(("lintel_http_requests_total",
                        (("method", method), ("route", route), ("status", str(status)))), 0)


def main():
    # Who may scrape: nobody anonymous, no plain user, an admin yes.
    status, headers, _ = request("GET", "/metrics")
    assert status == 401 and headers.get("WWW-Authenticate") == "Bearer", status
    username = f"metrics_{os.getpid()}"
    status, _, body = request("POST", "/api/auth/register", None,
                              {"username": username, "password": "metrics-pass-1"})
    assert status == 201, body
    user = json.loads(body)["access_token"]
    status, _, body = request("GET", "/metrics", user)
    assert status == 403, (status, body)
    status, _, body = request("GET", "/metrics", "not-a-token")
    assert status == 401, status
    status, _, body = request("POST", "/api/auth/login", None,
                              {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, body
    admin = json.loads(body)["access_token"]

    status, headers, text = request("GET", "/metrics", admin)
    assert status == 200, text
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers
    assert headers.get("Cache-Control") == "no-store", headers
    before = parse(text)
    for name in ("lintel_http_requests_total", "lintel_http_request_duration_seconds_count",
                 "lintel_websockets_active", "lintel_login_failures_total",
                 "lintel_login_lockouts_total", "lintel_populate_runs_total",
                 "lintel_upstream_errors_total", "lintel_sqlite_statement_cache_hits_total",
                 "lintel_database_size_bytes", "lintel_uptime_seconds"):
        assert any(k[0] == name for k in before) or name == "lintel_http_requests_total", name

    # Known requests: 3 numbers stats (200), 2 bad logins (401), 1 unknown path (404).
    for _ in range(3):
        assert request("GET", "/api/numbers/stats", user)[0] == 200
    for _ in range(2):
        assert request("POST", "/api/auth/login", None,
                       {"username": username, "password": "wrong-password"})[0] == 401
    assert request("GET", "/no/such/path")[0] == 404

    after = parse(request("GET", "/metrics", admin)[2])
    moved = lambda f: f(after) - f(before)
    assert moved(lambda s: requests_total(s, "GET", "/api/numbers/stats", 200)) == 3
    assert moved(lambda s: requests_total(s, "POST", "/api/auth/login", 401)) == 2
    assert moved(lambda s: requests_total(s, "", "", 404)) >= 1
    assert moved(lambda s: s[("lintel_login_failures_total", ())]) == 2
    assert moved(lambda s: s[("lintel_http_request_duration_seconds_count", ())]) >= 6
    assert moved(lambda s: s[("lintel_sqlite_statement_cache_hits_total", ())]) > 0
    assert after[("lintel_database_size_bytes", ())] > 4096
    assert after[("lintel_uptime_seconds", ())] >= 0
    print("metrics: scrape parses strictly; counters moved as expected")

    # The scraper's token: the exact one only.
    status, _, text = request("GET", "/metrics", SECRET)
    assert status == 200, status
    parse(text)
    assert request("GET", "/metrics", SECRET[:-1] + "x")[0] == 401
    assert request("GET", "/metrics", SECRET + "x")[0] == 401
    print("metrics: metrics_token lets a scraper in, and only the exact token")


def with_server(fn):
    """Runs fn against a new lintel (port 0, its own data dir, metrics_token set)."""
    global BASE
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, LINTEL_PORT="0", LINTEL_DATA_DIR=data, LINTEL_PASSWORD_COST="3",
                   LINTEL_PLUGIN_DIR=os.environ["LINTEL_TEST_PLUGIN_DIR"],
                   LINTEL_ADMIN_PASSWORD=ADMIN_PASSWORD, LINTEL_METRICS_TOKEN=SECRET)
        server = subprocess.Popen([os.environ["LINTEL_TEST_BIN"]], env=env, text=True,
                                  stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
        try:
            for line in server.stderr:
                m = re.search(r"listening on (http://\S+)", line)
                if m:
                    BASE = m.group(1)
                    break
            else:
                raise AssertionError("the server did not start")
            fn()
        finally:
            server.send_signal(signal.SIGTERM)
            log = server.stderr.read()
            code = server.wait(timeout=60)
        assert code == 0, f"the server stopped with {code}: {log}"


if __name__ == "__main__":
    try:
        with_server(main)
    except AssertionError as e:
        print(f"FAILED: {e!r}", file=sys.stderr)
        raise
