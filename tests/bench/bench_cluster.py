"""Cluster benchmark (make bench, never make test): in one run, a single-node SQLite server and a
3-node dqlite cluster on loopback; writes/s (POST /api/numbers) and read p50/p99 (GET
/api/numbers/{id}) through one node and spread over three (wrk, one instance per node, at the
same time); then the failover gap over ROUNDS leader kills (kill -9 of the leader under writes
through every node; the gap is from the kill to the first write acknowledged by a survivor).
Env: BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (per wrk, default 8), BENCH_KILLS (10),
BENCH_ONLY ("failover": only the leader kills)."""
import os
import re
import socket
import statistics
import struct
import subprocess
import sys
import shutil
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from cluster_lib import Cluster, Node, http, probe_writes  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
KILLS = int(os.environ.get("BENCH_KILLS", "10"))
ONLY = os.environ.get("BENCH_ONLY", "")  # "failover": skip the throughput runs
TMP = tempfile.mkdtemp(prefix="bench-cluster-")


def lua(name, body):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write(body)
    return path


def wrk_many(targets, script, token):
    """wrk against every (port, path) at once; (total req/s, p50 ms, p99 ms of the worst)."""
    procs = []
    for port, path in targets:
        procs.append(subprocess.Popen(
            ["wrk", "-t1", f"-c{CONNS}", f"-d{DURATION}s", "--latency", "-s", script,
             "-H", f"Authorization: Bearer {token}", f"http://127.0.0.1:{port}{path}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    rps, p50, p99, errors = 0.0, 0.0, 0.0, 0
    for p in procs:
        out = p.communicate(timeout=DURATION + 60)[0]
        bad = re.search(r"Non-2xx or 3xx responses:\s*([0-9]+)", out)
        errors += int(bad.group(1)) if bad else 0
        # only the successful requests count in the rate
        total = int(re.search(r"([0-9]+) requests in", out).group(1))
        secs = ms(re.search(r"requests in ([0-9.]+\w+)", out).group(1)) / 1000
        rps += (total - (int(bad.group(1)) if bad else 0)) / secs
        p50 = max(p50, ms(re.search(r"50%\s+([0-9.]+\w+)", out).group(1)))
        p99 = max(p99, ms(re.search(r"99%\s+([0-9.]+\w+)", out).group(1)))
    return rps, p50, p99, errors


def ms(text):
    num, unit = re.match(r"([0-9.]+)(\w+)", text).groups()
    return float(num) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def user(node, name):
    st, body = http(node.port, "POST", "/api/auth/register",
                    {"username": name, "password": "long-password-1"})
    assert st == 201, (st, body)
    tok = body["access_token"]
    st, num = http(node.port, "POST", "/api/numbers", {"value": 3}, tok)
    assert st == 201, (st, num)
    return tok, num["id"]


def measure(label, nodes, tok, num_id, out):
    post = lua("post.lua", 'wrk.method = "POST"\nwrk.body = \'{"value":12.5}\'\n'
                           'wrk.headers["Content-Type"] = "application/json"\n')
    get = lua("get.lua", 'wrk.method = "GET"\n')
    for how, targets in (("one node", nodes[:1]), ("three nodes", nodes)):
        if how == "three nodes" and len(nodes) == 1:
            continue
        w = wrk_many([(n.port, "/api/numbers") for n in targets], post, tok)
        r = wrk_many([(n.port, f"/api/numbers/{num_id}") for n in targets], get, tok)
        line = (f"{label:<16} {how:<12} writes {w[0]:8.0f}/s (p50 {w[1]:6.2f} ms, p99 "
                f"{w[2]:6.2f} ms)   reads {r[0]:8.0f}/s (p50 {r[1]:6.2f} ms, p99 {r[2]:6.2f} ms)"
                + (f"   errors: {w[3]} writes, {r[3]} reads" if w[3] or r[3] else ""))
        print(line, flush=True)
        out.append(line)


def raft_leader(addr):
    """The leader's address as the node at addr knows it (dqlite's LEADER request), "" if none."""
    host, port = addr.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5) as s:
            s.settimeout(0.5)
            # protocol version 1, then LEADER (type 0): one 8-byte word of body
            s.sendall(struct.pack("<Q", 1) + struct.pack("<IBBH", 1, 0, 0, 0) + bytes(8))
            head = b""
            while len(head) < 8:
                head += s.recv(8 - len(head))
            words = struct.unpack("<I", head[:4])[0]
            body = b""
            while len(body) < words * 8:
                chunk = s.recv(words * 8 - len(body))
                if not chunk:
                    return ""
                body += chunk
            return body[8:].split(b"\0", 1)[0].decode()
    except (OSError, ValueError, struct.error):
        return ""


def watch_election(survivors, old, killed, found):
    """found[0]: when a survivor first names a leader other than old (the election's end)."""
    end = killed + 15
    while time.monotonic() < end and not found:
        for n in survivors:
            lead = raft_leader(n.addr)
            if lead and lead != old.addr:
                found.append(time.monotonic() - killed)
                return
        time.sleep(0.005)


def failover(c, tok):
    """The gap: from the kill to the first write that started after it and was acknowledged;
    and when the election ended (a survivor names the new leader): the rest is the client's."""
    gaps, elections, probes = [], [], []
    for k in range(KILLS):
        leader = c.stable_leader()
        if leader is None:
            raise SystemExit("bench_cluster: the nodes do not agree on a leader")
        survivors = [n for n in c.nodes if n is not leader]
        stop = threading.Event()
        ok = []

        def writer(node):
            while not stop.is_set():
                t = time.monotonic()
                st, _ = http(node.port, "POST", "/api/numbers", {"value": 1}, tok, timeout=3)
                if st == 201:
                    ok.append((t, time.monotonic()))

        threads = [threading.Thread(target=writer, args=(n,)) for n in survivors]
        for t in threads:
            t.start()
        time.sleep(0.5)
        found = []
        killed = time.monotonic()
        leader.kill9()
        watcher = threading.Thread(target=watch_election, args=(survivors, leader, killed, found))
        watcher.start()
        probe = probe_writes(survivors, tok, killed, limit=15)
        end = killed + 15
        while time.monotonic() < end and not any(t0 > killed for t0, _ in list(ok)):
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        watcher.join(timeout=20)
        after = [t1 for t0, t1 in ok if t0 > killed]
        gap = min(after) - killed if after else float("inf")
        gaps.append(gap)
        elected = found[0] if found else float("inf")
        elections.append(elected)
        probes.append(probe if probe is not None else float("inf"))
        print(f"kill {k + 1}: leader node {leader.id} killed, new leader known after "
              f"{elected:.3f} s, a write sent to the survivors acknowledged after "
              f"{probes[-1]:.3f} s, the load's first write after {gap:.3f} s", flush=True)
        leader.start()
        c.wait_voters(3)
    return gaps, elections, probes


def main():
    results = []
    holder = Cluster.__new__(Cluster)  # a home for the one SQLite server: no cluster
    holder.root = TMP
    if ONLY != "failover":
        single = Node(holder, 1, None)
        single.storage = "sqlite"
        single.start()
        tok, num = user(single, "bench1")
        measure("sqlite, 1 node", [single], tok, num, results)
        single.term()

    c = Cluster(3)
    c.start()
    tok, num = user(c.nodes[0], "bench3")
    if ONLY != "failover":
        measure("dqlite, 3 nodes", c.nodes, tok, num, results)
        for n in c.nodes:  # what the nodes said of failures during the runs
            with open(n.log, errors="replace") as f:
                said = [ln.rstrip() for ln in f if " warn" in ln.lower() or "error" in ln.lower()]
            for ln in said[:5]:
                print(f"node {n.id}: {ln}", flush=True)
    gaps, elections, probes = failover(c, tok)
    if not gaps:
        c.stop()
        shutil.rmtree(TMP, True)
        return 0
    finite = [g for g in gaps if g != float("inf")]
    line = (f"failover over {len(gaps)} leader kills: the new leader known after median "
            f"{statistics.median(elections):.3f} s, max {max(elections):.3f} s; a write sent to"
            f" the survivors acknowledged after median {statistics.median(probes):.3f} s, max"
            f" {max(probes):.3f} s; the load's first write started after the kill: median"
            f" {statistics.median(gaps):.3f} s, max {max(gaps):.3f} s"
            f" ({len(gaps) - len(finite)} without recovery in 15 s)")
    print(line, flush=True)
    c.stop()
    shutil.rmtree(TMP, True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
