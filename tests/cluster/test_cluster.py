"""Three lintel processes on one dqlite cluster (loopback): the same data and SQL function
results through every node, tokens and revocations across nodes, a leader killed with -9
under write load, refresh-token rotation across a leader change, SIGTERM hand-over, the CLI,
dump and restore. Prints the measured failover gap."""
import base64
import json
import os
import re
import signal
import socket
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_lib import BIN, Cluster, Node, http, probe_writes  # noqa: E402

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}", flush=True)
    return cond


def register(node, name):
    st, body = http(node.port, "POST", "/api/auth/register",
                    {"username": name, "password": "long-password-1"})
    assert st == 201, (st, body)
    return body["access_token"], body["refresh_token"]


def login(node, name, password="long-password-1"):
    st, body = http(node.port, "POST", "/api/auth/login", {"username": name, "password": password})
    assert st == 200, (st, body)
    return body["access_token"], body["refresh_token"]


def test_same_data(c):
    n1, n2, n3 = c.nodes
    tok, _ = register(n1, "alice")
    ids = []
    for v in (3, 4.5, 10, 7):
        st, body = http(n1.port, "POST", "/api/numbers", {"value": v}, tok)
        check(st == 201 and body["value"] == v, f"create {v} through node 1: {st} {body}")
        ids.append(body["id"])
    s1, list1 = http(n1.port, "GET", "/api/numbers", token=tok)
    s3, list3 = http(n3.port, "GET", "/api/numbers", token=tok)
    check(s1 == 200 and s3 == 200 and list1 == list3, f"same rows through 1 and 3: {list1} {list3}")
    s1, st1 = http(n1.port, "GET", "/api/numbers/stats", token=tok)
    s3, st3 = http(n3.port, "GET", "/api/numbers/stats", token=tok)
    check(s3 == 200 and st1 == st3 and st3["median"] == 5.75 and st3["count"] == 4,
          f"same SQL function results (stats): {st1} {st3}")
    # UPDATE ... RETURNING through node 2, then read through 3
    st, body = http(n2.port, "PUT", f"/api/numbers/{ids[0]}", {"value": 42}, tok)
    check(st == 200 and body["value"] == 42 and body["id"] == ids[0],
          f"update (RETURNING) through node 2: {st} {body}")
    st, body = http(n3.port, "GET", f"/api/numbers/{ids[0]}", token=tok)
    check(st == 200 and body["value"] == 42, f"the update read through node 3: {st} {body}")
    st, body = http(n3.port, "PUT", "/api/numbers/999999", {"value": 1}, tok)
    check(st == 404, f"update of an unknown id through node 3 is 404: {st}")
    st, body = http(n3.port, "POST", "/api/numbers", {"value": -1}, tok)
    check(st == 422, f"a rule's refusal through node 3 is 422: {st} {body}")
    st, _ = http(n3.port, "DELETE", f"/api/numbers/{ids[1]}", token=tok)
    check(st == 204, f"delete through node 3: {st}")
    st, _ = http(n1.port, "GET", f"/api/numbers/{ids[1]}", token=tok)
    check(st == 404, f"the deleted row is gone through node 1: {st}")
    # tasks: INSERT ... RETURNING with defaults, PATCH
    st, task = http(n2.port, "POST", "/api/tasks", {"title": "  write docs "}, tok)
    check(st == 201 and task["title"] == "write docs" and task["done"] is False,
          f"task through node 2: {st} {task}")
    st, body = http(n1.port, "PATCH", f"/api/tasks/{task['id']}", {"done": True}, tok)
    check(st == 200 and body["done"] is True, f"task patched through node 1: {st} {body}")
    # a duplicate username is a 409 through any node
    st, _ = http(n3.port, "POST", "/api/auth/register",
                 {"username": "alice", "password": "long-password-1"})
    check(st == 409, f"duplicate username through node 3 is 409: {st}")
    return tok


def png(w, h):
    """A real PNG of w x h grey pixels."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    raw = b"".join(b"\x00" + bytes((x * 7 + y) % 256 for x in range(w)) for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def raw_request(port, method, path, data, ctype, token):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_avatar(c, tok):
    """Bytes through the cluster: an upload through node 2, the same bytes through node 3."""
    n1, n2, n3 = c.nodes
    image = png(40, 30)
    st, body = raw_request(n2.port, "PUT", "/api/users/me/avatar", image, "image/png", tok)
    check(st == 200, f"avatar upload through node 2: {st} {body[:200]}")
    st, me = http(n1.port, "GET", "/api/users/me", token=tok)
    st, got = raw_request(n3.port, "GET", f"/api/users/{me['id']}/avatar", None, None, tok)
    check(st == 200 and got == image, f"the same bytes through node 3: {st} {len(got)}")


class WebSocket:
    """The client side of RFC 6455, enough to read the server's text frames."""

    def __init__(self, port, token):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /api/ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                           f"Authorization: Bearer {token}\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(1)
            if not chunk:
                raise AssertionError("the WebSocket handshake was cut")
            head += chunk
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise AssertionError(f"no WebSocket: {head[:200]!r}")
        self.buf = b""

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError("the WebSocket closed")
            self.buf += chunk

    def text(self, limit):
        """The next text frame within limit seconds (None when none came)."""
        deadline = time.monotonic() + limit
        try:
            while True:
                self._need(2, deadline)
                op, ln = self.buf[0] & 0x0F, self.buf[1] & 0x7F
                hdr = 2
                if ln == 126:
                    self._need(4, deadline)
                    ln, hdr = struct.unpack(">H", self.buf[2:4])[0], 4
                elif ln == 127:
                    self._need(10, deadline)
                    ln, hdr = struct.unpack(">Q", self.buf[2:10])[0], 10
                self._need(hdr + ln, deadline)
                payload, self.buf = self.buf[hdr:hdr + ln], self.buf[hdr + ln:]
                if op == 1:
                    return json.loads(payload)
        except (socket.timeout, TimeoutError):
            return None

    def close(self):
        self.sock.close()


def test_live_events(c, tok):
    """An event of a write through node 1 reaches sockets on nodes 2 and 3 within a second."""
    n1, n2, n3 = c.nodes
    socks = [WebSocket(n.port, tok) for n in (n2, n3, n1)]
    time.sleep(0.3)  # the sockets are registered
    t0 = time.monotonic()
    st, num = http(n1.port, "POST", "/api/numbers", {"value": 12.5}, tok)
    check(st == 201, f"a write for the event: {st}")
    for ws, node in zip(socks, (n2, n3, n1)):
        # this write's event: the user's other events may come first
        ev = ws.text(1.0)
        while ev is not None and (ev.get("event") != "number.created" or
                                  ev["number"]["id"] != num["id"]):
            ev = ws.text(max(0.01, 1.0 - (time.monotonic() - t0)))
        took = time.monotonic() - t0
        check(ev is not None and ev["number"]["id"] == num["id"] and took < 1.0,
              f"node {node.id}'s socket got number.created within 1 s: {ev} after {took:.3f} s")
        print(f"live event on node {node.id}'s socket after {took * 1000:.0f} ms", flush=True)
    # concurrent writes through node 2 share inserts of their events: each one arrives, and a
    # client's sequential writes' events keep their order
    ids, order = [], []

    def create(k):
        for j in range(3):
            st, body = http(n2.port, "POST", "/api/numbers", {"value": 1 + k + j}, tok)
            if st == 201:
                ids.append(body["id"])
    threads = [threading.Thread(target=create, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    st, num = http(n1.port, "POST", "/api/numbers", {"value": 7}, tok)
    st2, _ = http(n1.port, "PUT", f"/api/numbers/{num['id']}", {"value": 8}, tok)
    for t in threads:
        t.join(timeout=30)
    check(len(ids) == 18 and st == 201 and st2 == 200, f"concurrent writes: {len(ids)} {st} {st2}")
    want, seen = set(ids) | {num["id"]}, set()
    end = time.monotonic() + 5
    while (want - seen or "number.updated" not in order) and time.monotonic() < end:
        ev = socks[1].text(max(0.01, end - time.monotonic()))
        if ev is None:
            break
        got = (ev.get("number") or {}).get("id")
        if ev.get("event") == "number.created":
            seen.add(got)
        if got == num["id"]:
            order.append(ev.get("event"))
    check(not want - seen, f"every concurrent write's event reached node 3: {len(want - seen)} "
                           f"of {len(want)} missing")
    check(order[:2] == ["number.created", "number.updated"],
          f"a client's sequential writes' events in order: {order}")
    for ws in socks:
        ws.close()


def test_tokens(c):
    n1, n2, n3 = c.nodes
    tok2, _ = login(n2, "alice")
    st, me = http(n1.port, "GET", "/api/users/me", token=tok2)
    check(st == 200 and me["username"] == "alice", f"a token of node 2 works on node 1: {st}")
    st, _ = http(n1.port, "POST", "/api/auth/logout", token=tok2)
    check(st == 204, f"logout on node 1: {st}")
    st, _ = http(n3.port, "GET", "/api/users/me", token=tok2)
    check(st == 401, f"the logged-out token is 401 on node 3 at once: {st}")
    st, _ = http(n2.port, "GET", "/api/users/me", token=tok2)
    check(st == 401, f"the logged-out token is 401 on node 2: {st}")


def test_cli(c):
    r = c.nodes[1].cli("cluster", "members")
    lines = [ln for ln in r.stdout.splitlines()[1:] if ln.strip()]
    check(r.returncode == 0 and len(lines) == 3 and "(leader)" in r.stdout,
          f"lintel cluster members: {r.returncode} {r.stdout} {r.stderr}")
    r = c.nodes[2].cli("cluster", "status")
    check(r.returncode == 0 and '"leader"' in r.stdout, f"lintel cluster status: {r.stdout}")
    r = c.nodes[2].cli("cluster", "transfer", "abc")
    check(r.returncode == 2, f"transfer of a bad id is a usage error: {r.returncode}")
    r = c.nodes[2].cli("cluster", "frobnicate")
    check(r.returncode == 2, f"an unknown cluster command is a usage error: {r.returncode}")
    # the other command-line tools are clients of the running cluster
    r = subprocess.run([BIN, "user", "add", "carol"], input="long-password-1\n",
                       env=c.nodes[2].env(), capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"lintel user add through the cluster: {r.stdout} {r.stderr}")
    login(c.nodes[0], "carol")


def writer(node, tok, stop, acked, events):
    while not stop.is_set():
        t = time.monotonic()
        st, body = http(node.port, "POST", "/api/numbers", {"value": 1 + len(acked) % 97}, tok,
                        timeout=3)
        events.append((t, time.monotonic(), node.id, st))
        if st == 201:
            acked.append(body["id"])
        elif st == 0 and node.proc.poll() is not None:
            time.sleep(0.05)


def test_failover(c, tok):
    leader = c.stable_leader()
    check(leader is not None, "every node names the same leader")
    stop = threading.Event()
    acked, events = [], []
    threads = [threading.Thread(target=writer, args=(n, tok, stop, acked, events))
               for n in c.nodes]
    for t in threads:
        t.start()
    time.sleep(1.5)
    before = len(acked)
    killed_at = time.monotonic()
    leader.kill9()
    survivors = [n for n in c.nodes if n is not leader]
    probe = probe_writes(survivors, tok, killed_at)
    # until every survivor has taken a write again after the kill (bounded)
    end = killed_at + 20
    while time.monotonic() < end:
        ok = {e[2] for e in list(events) if e[0] > killed_at and e[3] == 201}
        if all(n.id in ok for n in survivors):
            break
        time.sleep(0.05)
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    after = [e for e in events if e[0] >= killed_at and e[3] == 201 and e[2] != leader.id]
    gap = (min(e[1] for e in after) - killed_at) if after else None
    bad = [e for e in events if e[2] != leader.id and e[3] not in (201, 503, 0)]
    print(f"failover: leader node {leader.id} killed -9 after {before} writes; a write sent to "
          f"the survivors succeeded again {probe if probe is None else round(probe, 3)} s after "
          f"the kill (the load's first write started after the kill: after "
          f"{gap if gap is None else round(gap, 3)} s); {len(acked)} writes acknowledged in all",
          flush=True)
    check(probe is not None and probe < 1, f"writes succeed again through the survivors within"
                                           f" 1 s: {probe}")
    check(gap is not None and gap < 5, f"the load's writes succeed again: gap {gap}")
    check(not bad, f"failed writes answer 503 only: {bad[:5]}")
    new = c.stable_leader(survivors)
    check(new is not None and new is not leader, "a survivor leads")
    missing = [i for i in acked
               if http(new.port, "GET", f"/api/numbers/{i}", token=tok)[0] != 200]
    check(not missing, f"every acknowledged write is present: {len(missing)} missing {missing[:5]}")
    # the killed node comes back with its id and data directory, and catches up: once it leads,
    # every row is read from its own copy
    leader.start()
    c.wait_voters(3)
    # a transfer waits for the target to have the whole log: c.transfer repeats it
    check(c.transfer(leader) is leader, "the restarted node leads")
    st, stats = http(leader.port, "GET", "/api/numbers/stats", token=tok)
    st2, stats2 = http(survivors[0].port, "GET", "/api/numbers/stats", token=tok)
    check(st == 200 and stats == stats2 and stats["count"] >= len(acked),
          f"the restarted node holds every row: {stats} vs {len(acked)} acked")
    return gap


def refresh(node, rt):
    return http(node.port, "POST", "/api/auth/refresh", {"refresh_token": rt})


def test_refresh_rotation(c):
    n1, n2, n3 = c.nodes
    _, r1 = login(n1, "alice")
    st, body = refresh(n2, r1)
    check(st == 200, f"refresh through node 2: {st}")
    r2 = body["refresh_token"]
    old = c.stable_leader()
    other = next(n for n in c.nodes if n is not old)
    new = c.transfer(other, avoid=old)
    check(new is not None and new is not old, f"the leader changed (from node {old and old.id}"
                                              f" to {new and new.id})")
    st, body = refresh(n3, r2)
    check(st == 200, f"the rotated token refreshes after the leader change: {st}")
    r3 = body["refresh_token"]
    st, _ = refresh(n1, r2)
    check(st == 401, f"a refresh token is not usable twice, across nodes: {st}")
    st, _ = refresh(n2, r3)
    check(st == 401, f"reuse detection revoked the family: {st}")
    st, _ = refresh(n3, r1)
    check(st == 401, f"the first token of the family stays dead: {st}")


def test_sigterm(c):
    leader = c.stable_leader()
    rc = leader.term()
    check(rc == 0, f"SIGTERM: the leader stops cleanly (exit {rc})")
    check("leadership handed over" in leader.tail(), f"it handed leadership over: {leader.tail()}")
    others = [n for n in c.nodes if n is not leader]
    new = c.stable_leader(others, limit=5)
    check(new is not None and new is not leader, "another node leads after the SIGTERM")
    leader.start()
    c.wait_voters(3)


def shell_env(base):
    """base, plus what the plain sqlite3 shell needs to load a sanitized liblintel (the ASan
    runtime first)."""
    env = dict(base)
    ext = os.environ.get("LINTEL_TEST_EXT", "")
    if "__asan_init" in subprocess.run(["nm", "-D", ext + ".so"], capture_output=True,
                                       text=True).stdout:
        libs = [subprocess.run(["gcc", f"-print-file-name={n}"], capture_output=True,
                               text=True).stdout.strip() for n in ("libasan.so", "libubsan.so")]
        env.update(LD_PRELOAD=" ".join(libs), ASAN_OPTIONS="detect_leaks=0:verify_asan_link_order=0")
    return env


def test_migrate_shell(c, tok):
    """lintel migrate --status/--dry-run and lintel shell read a copy of the cluster's database."""
    n = c.nodes[1]
    r = n.cli("migrate", "--status")
    check(r.returncode == 0 and re.search(r"numbers\s+0001_numbers\s+applied", r.stdout) and
          "0 pending, 0 changed" in r.stdout, f"migrate --status on a cluster: {r.stdout[-300:]}"
                                             f" {r.stderr[-300:]}")
    r = n.cli("migrate", "--dry-run")
    check(r.returncode == 0 and "0 pending; all would apply" in r.stdout,
          f"migrate --dry-run on a cluster: {r.stdout[-300:]} {r.stderr[-300:]}")
    st, stats = http(n.port, "GET", "/api/numbers/stats", token=tok)
    alice = "(SELECT id FROM users WHERE username = 'alice')"
    r = subprocess.run([BIN, "shell", f"SELECT count(*), lintel_median(value) FROM numbers"
                                      f" WHERE user_id = {alice};"],
                       env=shell_env(n.env()), capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and r.stdout.strip() == f"{stats['count']}|{stats['median']}"
          and "read-only copy" in r.stderr, f"lintel shell on a cluster: {r.stdout} {r.stderr}")
    r = subprocess.run([BIN, "shell", "DELETE FROM numbers;"], env=shell_env(n.env()),
                       capture_output=True, text=True, timeout=60)
    st2, stats2 = http(n.port, "GET", "/api/numbers/stats", token=tok)
    check(r.returncode != 0 and "readonly" in r.stderr and stats2 == stats,
          f"the shell's copy is read-only: {r.returncode} {r.stderr[-200:]} {stats2}")
    left = [f for f in os.listdir(n.dir) if f.startswith(".cluster-copy")]
    check(not left, f"the copies are removed: {left}")


def test_dump_restore(c, tok):
    dump = os.path.join(c.root, "copy.db")
    r = c.nodes[0].cli("cluster", "dump", dump)
    check(r.returncode == 0 and "from 127.0.0.1" in r.stdout, f"cluster dump: {r.stdout} {r.stderr}")
    ext = os.environ.get("LINTEL_TEST_EXT", "")
    st, stats = http(c.nodes[1].port, "GET", "/api/numbers/stats", token=tok)
    env = shell_env(os.environ)
    out = subprocess.run(
        ["sqlite3", dump, f".load {ext}",
         "SELECT count(*), lintel_median(value) FROM numbers WHERE user_id ="
         " (SELECT id FROM users WHERE username = 'alice')"],
        capture_output=True, text=True, timeout=30, env=env)
    check(out.returncode == 0 and out.stdout.strip() == f"{stats['count']}|{stats['median']}",
          f"the dump opens in sqlite3 with the extension: {out.stdout!r} {out.stderr} {stats}")
    if failed and os.environ.get("LINTEL_TEST_KEEP"):
        subprocess.run(["cp", "-r", c.root, os.environ["LINTEL_TEST_KEEP"]])
    r = c.nodes[0].cli("cluster", "dump", dump)
    check(r.returncode == 2, "dump refuses to overwrite a file")
    # The copy as a release before the datapoints plugin: its migrations are pending when the
    # restored cluster starts, so that start takes a snapshot first.
    with sqlite3.connect(dump) as db:
        db.execute("DROP TABLE datapoints")
        db.execute("DELETE FROM schema_migrations WHERE component = 'datapoints'")
    db.close()
    # restore: a new one-node cluster from the copy
    new = Node(c, 1, None)
    new.dir = os.path.join(c.root, "restored")
    new.log = os.path.join(c.root, "restored.log")
    r = new.cli("cluster", "restore", dump, timeout=120)
    check(r.returncode == 0, f"cluster restore: {r.stdout} {r.stderr}")
    r = new.cli("cluster", "restore", dump, timeout=60)
    check(r.returncode == 2, f"restore refuses a data_dir in use: {r.returncode}")
    new.start()
    tok2, _ = login(new, "alice")
    st2, stats2 = http(new.port, "GET", "/api/numbers/stats", token=tok2)
    check(st2 == 200 and stats2 == stats, f"the restored cluster has the data: {stats2} {stats}")
    st, _ = http(new.port, "POST", "/api/numbers", {"value": 2}, tok2)
    check(st == 201, f"the restored cluster takes writes: {st}")
    snaps = os.path.join(new.dir, "snapshots")
    files = sorted(os.listdir(snaps)) if os.path.isdir(snaps) else []
    tables = set()
    if len(files) == 1:
        with sqlite3.connect(os.path.join(snaps, files[0])) as db:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_schema")}
        db.close()
    check(len(files) == 1 and "numbers" in tables and "datapoints" not in tables,
          f"a snapshot of the cluster before its pending migrations: {files} {sorted(tables)[:5]}")
    st, _ = http(new.port, "GET", "/api/datapoints", token=tok2)
    check(st == 200, f"the pending migrations applied after the snapshot: {st}")
    check(new.term() == 0, "the restored node stops cleanly")


def test_bad_settings(c):
    """Settings a node cannot run with: refused at start with exit 2 and a message naming them."""
    base = c.nodes[0].env()
    cases = [
        ({"LINTEL_CLUSTER_ID": "2", "LINTEL_CLUSTER_JOIN": ""}, "cluster_join"),
        ({"LINTEL_CLUSTER_JOIN": "127.0.0.1:1"}, "node 1 bootstraps"),
        ({"LINTEL_CLUSTER_BIND": "nohostport"}, "cluster_bind"),
        ({"LINTEL_CLUSTER_ID": "x"}, "LINTEL_CLUSTER_ID"),
        ({"LINTEL_STORAGE": "mysql"}, "LINTEL_STORAGE"),
    ]
    for extra, word in cases:
        env = dict(base)
        env.update(extra)
        if env.get("LINTEL_CLUSTER_JOIN") == "":
            del env["LINTEL_CLUSTER_JOIN"]
        r = subprocess.run([BIN, "serve"], env=env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 2 and word in r.stderr,
              f"{extra} refused naming {word}: {r.returncode} {r.stderr[-300:]}")
    env = dict(base)
    env.pop("LINTEL_STORAGE")
    r = subprocess.run([BIN, "cluster", "status"], env=env, capture_output=True, text=True,
                       timeout=30)
    check(r.returncode == 2 and "storage is not dqlite" in r.stderr,
          f"lintel cluster without storage dqlite: {r.returncode} {r.stderr}")


def test_go_shell():
    # The Go shell (go-dqlite's `dqlite`) would be an independent client; Debian 12 has no
    # package of it and the Go module proxy is not a way to fetch tools here.
    print("SKIP go-dqlite shell check: the `dqlite` shell of go-dqlite is not installable "
          "from Debian 12's packages", flush=True)


def main():
    signal.alarm(280)  # the whole run is bounded; cluster_lib kills every node on the alarm
    c = Cluster(3)
    try:
        c.start()
        tok = test_same_data(c)
        test_avatar(c, tok)
        test_live_events(c, tok)
        test_tokens(c)
        test_cli(c)
        test_failover(c, tok)
        test_refresh_rotation(c)
        test_sigterm(c)
        test_migrate_shell(c, tok)
        test_dump_restore(c, tok)
        test_bad_settings(c)
        test_go_shell()
    except (AssertionError, KeyError, TypeError) as e:
        check(False, f"stopped: {e!r}")
        for n in c.nodes:
            print(f"--- node {n.id} log:\n{n.tail()}", flush=True)
    finally:
        codes = c.stop()
        check(all(rc == 0 for rc in codes.values()),
              f"every node stops cleanly on SIGTERM (exit codes {codes})")
    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
