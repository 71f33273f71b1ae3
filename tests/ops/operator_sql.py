#!/usr/bin/env python3
"""The five queries of docs/sql-functions.md "Operator's SQL", each run through `lintel shell`
on the database of a real server this test filled through the API, with its result checked."""
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

BIN = os.environ["LINTEL_TEST_BIN"]
DOC = os.path.join(os.environ["LINTEL_TEST_SOURCE_DIR"], "docs", "sql-functions.md")
ADMIN_PASSWORD = "admin-password-for-tests"
BASE = None


def request(method, path, token=None, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(BASE + path, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read().decode()
        return e.code, json.loads(text) if text.startswith("{") else text


def queries():
    """{name: sql} from the doc's ```sql blocks marked `-- operator-sql: NAME`."""
    found = {}
    for block in re.findall(r"```sql\n(.*?)```", open(DOC).read(), re.S):
        m = re.match(r"-- operator-sql: (\S+)\n", block)
        if m:
            found[m.group(1)] = block
    assert len(found) == 5, f"five operator queries in the doc, found {sorted(found)}"
    return found


def shell(env, sql):
    """Runs sql through `lintel shell` (stdin), rows as JSON objects."""
    p = subprocess.run([BIN, "shell"], input=".mode json\n" + sql, env=env, text=True,
                       capture_output=True, timeout=60)
    assert p.returncode == 0 and "Error" not in p.stderr, f"lintel shell: {p.stderr}"
    rows = []
    for chunk in re.findall(r"^\[\{.*?\}\]$", p.stdout, re.S | re.M):
        rows += json.loads(chunk)
    return rows


def f32(v):
    return list(struct.pack("<f", v))


def fill():
    """alice (two sessions, numbers 1..4), bob (one, number 10), points valid and invalid."""
    tokens = {}
    for name, numbers in (("alice", [1, 2, 3, 4]), ("bob", [10])):
        status, body = request("POST", "/api/auth/register", None,
                               {"username": name, "password": "operator-pass-1"})
        assert status == 201, body
        tokens[name] = [body["access_token"]]
        for v in numbers:
            assert request("POST", "/api/numbers", tokens[name][0], {"value": v})[0] == 201
    status, body = request("POST", "/api/auth/login", None,
                           {"username": "alice", "password": "operator-pass-1"})
    assert status == 200, body
    tokens["alice"].append(body["access_token"])
    tokens["alice_refresh"] = body["refresh_token"]
    status, body = request("POST", "/api/auth/login", None,
                           {"username": "admin", "password": ADMIN_PASSWORD})
    assert status == 200, body
    tokens["admin"] = body["access_token"]
    now = int(time.time())
    points = [{"time": now - 10, "value": f32(1.5), "tags": []},
              {"time": now - 9, "value": f32(2.5), "tags": ["system"]},
              {"time": now - 8, "value": f32(3.5), "tags": ["suspect", "system"]},
              {"time": now - 7200, "value": f32(4.5), "tags": ["late"]}]  # gets "too old"
    status, body = request("POST", "/api/datapoints", tokens["admin"], points)
    assert status == 201, body
    return tokens


def check(env, sql, tokens):
    rows = shell(env, sql["users-sessions"])
    by = {r["username"]: r for r in rows}
    assert "alice" in by and "bob" in by, rows
    assert by["alice"]["open_sessions"] == 2 and by["bob"]["open_sessions"] == 1, rows
    assert by["admin"]["role"] == "admin" and by["admin"]["open_sessions"] >= 1, rows
    print("ok - users-sessions:", [(r["username"], r["open_sessions"]) for r in rows])

    rows = shell(env, sql["stats-per-user"])
    by = {r["username"]: r for r in rows}
    assert by["alice"]["count"] == 4 and by["alice"]["avg"] == 2.5, rows
    assert by["alice"]["median"] == 2.5 and abs(by["alice"]["stddev"] - 1.2909944487) < 1e-9, rows
    assert by["bob"]["count"] == 1 and by["bob"]["stddev"] is None, rows
    status, api = request("GET", "/api/numbers/stats", tokens["alice"][0])
    assert status == 200 and api["avg"] == by["alice"]["avg"], (api, rows)
    print("ok - stats-per-user agrees with GET /api/numbers/stats")

    rows = shell(env, sql["invalid-by-tag"])
    counts = {r["tag"]: r["points"] for r in rows}
    assert counts == {"system": 2, "suspect": 1, "too old": 1, "late": 1}, rows
    print("ok - invalid-by-tag:", counts)

    assert shell(env, sql["consistency"]) == [], "a fresh database is consistent"
    # A row that slipped past the rule (checks switched off, as an old tool might) is reported.
    shell(env, "PRAGMA ignore_check_constraints=ON;\n"
               "UPDATE datapoints SET valid = 1 WHERE tags LIKE '%suspect%';")
    rows = shell(env, sql["consistency"])
    # integrity_check re-evaluates CHECK constraints too, so it names the table as well.
    assert {r["check_name"] for r in rows} == {"integrity", "datapoint validity"}, rows
    assert "datapoints id 3" in [r["detail"] for r in rows], rows
    shell(env, "PRAGMA ignore_check_constraints=ON;\n"
               "UPDATE datapoints SET valid = 0 WHERE tags LIKE '%suspect%';")
    assert shell(env, sql["consistency"]) == []
    print("ok - consistency: empty, then names the broken row")

    # Revoke last: alice's tokens and refresh token stop working, bob's do not.
    assert request("GET", "/api/users/me", tokens["alice"][1])[0] == 200
    shell(env, sql["revoke-sessions"])
    for t in tokens["alice"]:
        assert request("GET", "/api/users/me", t)[0] == 401
    assert request("POST", "/api/auth/refresh", None,
                   {"refresh_token": tokens["alice_refresh"]})[0] == 401
    assert request("GET", "/api/users/me", tokens["bob"][0])[0] == 200
    rows = shell(env, sql["users-sessions"])
    assert {r["username"]: r["open_sessions"] for r in rows}["alice"] == 0, rows
    print("ok - revoke-sessions: alice's tokens get 401 at once, bob's still work")


def main():
    global BASE
    sql = queries()
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, LINTEL_PORT="0", LINTEL_DATA_DIR=data, LINTEL_PASSWORD_COST="3",
                   LINTEL_PLUGIN_DIR=os.environ["LINTEL_TEST_PLUGIN_DIR"],
                   LINTEL_ADMIN_PASSWORD=ADMIN_PASSWORD)
        shell_env = dict(env)
        ext = os.path.join(os.environ["LINTEL_TEST_EXT"] + ".so")
        if "__asan_init" in subprocess.run(["nm", "-D", ext], capture_output=True,
                                           text=True).stdout:
            # sqlite3 is not sanitized but loads the sanitized extension: runtimes first.
            shell_env["LD_PRELOAD"] = " ".join(
                subprocess.check_output(["gcc", "-print-file-name=" + lib], text=True).strip()
                for lib in ("libasan.so", "libubsan.so"))
            shell_env["ASAN_OPTIONS"] = "detect_leaks=0:verify_asan_link_order=0"
        server = subprocess.Popen([BIN], env=env, text=True, stderr=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL)
        try:
            for line in server.stderr:
                m = re.search(r"listening on (http://\S+)", line)
                if m:
                    BASE = m.group(1)
                    break
            else:
                raise AssertionError("the server did not start")
            check(shell_env, sql, fill())
        finally:
            server.send_signal(signal.SIGTERM)
            log = server.stderr.read()
            code = server.wait(timeout=60)
        assert code == 0, f"the server stopped with {code}: {log}"
    print("operator_sql: all five queries checked")


if __name__ == "__main__":
    main()
