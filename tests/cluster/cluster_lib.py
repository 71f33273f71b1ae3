"""A lintel cluster for tests and benchmarks: N real server processes on loopback with
storage dqlite, random free ports, every process killed when the script ends."""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

BIN = os.environ.get("LINTEL_TEST_BIN", "")
PLUGIN_DIR = os.environ.get("LINTEL_TEST_PLUGIN_DIR", "")
ADMIN_PASSWORD = "cluster-admin-password-1"

_procs = []


def _kill_all():
    for p in _procs:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


atexit.register(_kill_all)
for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
    signal.signal(_sig, lambda s, f: (_kill_all(), os._exit(1)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port, method, path, body=None, token=None, timeout=5):
    """(status, parsed JSON or None) of one request; 0 when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        text = e.read()
        try:
            return e.code, json.loads(text) if text else None
        except ValueError:
            return e.code, None
    except (urllib.error.URLError, OSError, ValueError):
        return 0, None


def probe_writes(nodes, token, since, limit=5.0, every=0.05):
    """From `since` (time.monotonic()), a new write (POST /api/numbers) every `every` seconds,
    each from its own thread, to the nodes in turn, until one is acknowledged or limit seconds
    pass: a write sent during an outage waits in the server for the new leader, so the first
    acknowledgement says when writes succeed again, whatever the load's own requests were doing.
    Seconds from since to that acknowledgement, or None."""
    done, threads = [], []

    def one(node):
        st, _ = http(node.port, "POST", "/api/numbers", {"value": 1}, token, timeout=limit)
        if st == 201:
            done.append(time.monotonic() - since)

    k = 0
    while not done and time.monotonic() < since + limit:
        t = threading.Thread(target=one, args=(nodes[k % len(nodes)],))
        t.start()
        threads.append(t)
        k += 1
        time.sleep(every)
    for t in threads:
        t.join(timeout=limit + 5)
    return min(done) if done else None


class Node:
    def __init__(self, cluster, nid, join):
        self.cluster, self.id, self.join = cluster, nid, join
        self.port, self.raft = free_port(), free_port()
        self.dir = os.path.join(cluster.root, f"n{nid}")
        self.proc = None
        self.log = os.path.join(cluster.root, f"n{nid}.log")
        self.storage = "dqlite"  # "sqlite": a single server on its own file, for comparisons

    @property
    def addr(self):
        return f"127.0.0.1:{self.raft}"

    def env(self):
        e = dict(os.environ)
        e.update({
            "LINTEL_STORAGE": "dqlite",
            "LINTEL_CLUSTER_ID": str(self.id),
            "LINTEL_CLUSTER_BIND": self.addr,
            "LINTEL_PORT": str(self.port),
            "LINTEL_DATA_DIR": self.dir,
            "LINTEL_PLUGIN_DIR": PLUGIN_DIR,
            "LINTEL_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "LINTEL_LOG_LEVEL": "info",
            "LINTEL_LOGIN_MAX_IP": "100000",
            "LINTEL_REGISTER_MAX_IP": "0",
        })
        e.pop("LINTEL_CLUSTER_JOIN", None)
        if self.storage == "sqlite":
            for k in ("LINTEL_STORAGE", "LINTEL_CLUSTER_ID", "LINTEL_CLUSTER_BIND"):
                e.pop(k)
        elif self.join:
            e["LINTEL_CLUSTER_JOIN"] = self.join
        return e

    def start(self, wait=True):
        out = open(self.log, "a")
        self.proc = subprocess.Popen([BIN, "serve"], env=self.env(), stdout=out, stderr=out)
        _procs.append(self.proc)
        if wait:
            self.wait_healthy()

    def wait_healthy(self, limit=60):
        end = time.time() + limit
        while time.time() < end:
            if self.proc.poll() is not None:
                raise AssertionError(f"node {self.id} exited: {self.tail()}")
            st, body = http(self.port, "GET", "/health", timeout=2)
            if st == 200:
                return body
            time.sleep(0.1)
        raise AssertionError(f"node {self.id} not healthy in {limit}s: {self.tail()}")

    def tail(self):
        with open(self.log, errors="replace") as f:
            return f.read()[-3000:]

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def term(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=30)

    def cli(self, *args, timeout=60):
        return subprocess.run([BIN, *args], env=self.env(), capture_output=True, text=True,
                              timeout=timeout)


class Cluster:
    def __init__(self, n=3):
        if not BIN or not PLUGIN_DIR:
            raise SystemExit("LINTEL_TEST_BIN and LINTEL_TEST_PLUGIN_DIR must be set")
        self.root = tempfile.mkdtemp(prefix="lintel-cluster-")
        atexit.register(shutil.rmtree, self.root, True)
        self.nodes = [Node(self, 1, None)]
        for i in range(2, n + 1):
            self.nodes.append(Node(self, i, self.nodes[0].addr))

    def start(self):
        self.nodes[0].start()
        for n in self.nodes[1:]:
            n.start(wait=False)
        for n in self.nodes[1:]:
            n.wait_healthy()
        self.wait_voters(len(self.nodes))

    def wait_voters(self, count, limit=30):
        end = time.time() + limit
        while time.time() < end:
            st, body = http(self.nodes[0].port, "GET", "/health")
            members = (body or {}).get("cluster", {}).get("members", [])
            if len([m for m in members if m["role"] == "voter"]) >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"not {count} voters in {limit}s")

    def stable_leader(self, among=None, limit=30):
        """The leader once every running node among those given names the same one; None when
        they do not agree within limit seconds. A node's own view
        can be a term old: a step that needs a leader waits for agreement first."""
        nodes = [n for n in (among or self.nodes) if n.proc is not None and n.proc.poll() is None]
        end = time.time() + limit
        while True:
            seen = set()
            for n in nodes:
                st, body = http(n.port, "GET", "/health", timeout=2)
                seen.add((body or {}).get("cluster", {}).get("leader"))
            lead = next((m for m in self.nodes if seen == {m.addr}), None)
            if lead is not None:
                return lead
            if time.time() > end:
                return None
            time.sleep(0.05)

    def transfer(self, to, avoid=None, limit=30):
        """Hands leadership to node `to` (or, with avoid, to any node but that one), repeating
        the transfer until every node agrees: Raft refuses a target still catching up, and a
        transfer can end with a new election that the old leader wins again. The leader then,
        or None after limit seconds."""
        end = time.time() + limit
        while time.time() < end:
            lead = self.stable_leader(limit=min(5, max(0.1, end - time.time())))
            if lead is not None and (lead is to if avoid is None else lead is not avoid):
                return lead
            if lead is not None:
                to.cli("cluster", "transfer", str(to.id), timeout=30)
            time.sleep(0.2)
        return None

    def stop(self):
        """SIGTERM to every running node; their exit codes (a leak under ASan is not 0)."""
        return {n.id: n.term() for n in self.nodes if n.proc is not None and n.proc.poll() is None}
