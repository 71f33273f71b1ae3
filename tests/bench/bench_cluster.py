"""Cluster benchmark (make bench, never make test): in one run, a single-node SQLite server and a
3-node dqlite cluster on loopback; writes/s (POST /api/numbers) and read p50/p99 (GET
/api/numbers/{id}) through one node and spread over three (wrk, one instance per node, at the
same time); then the failover gap over ROUNDS leader kills (kill -9 of the leader under writes
through every node; the gap is from the kill to the first write acknowledged by a survivor).
Env: BENCH_DURATION (s, default 5), BENCH_CONNECTIONS (per wrk, default 8), BENCH_KILLS (10)."""
import os
import re
import statistics
import subprocess
import sys
import shutil
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cluster"))
from cluster_lib import Cluster, Node, http  # noqa: E402

DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CONNS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
KILLS = int(os.environ.get("BENCH_KILLS", "10"))
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
    rps, p50, p99 = 0.0, 0.0, 0.0
    for p in procs:
        out = p.communicate(timeout=DURATION + 60)[0]
        if "Non-2xx" in out:
            print(out, file=sys.stderr)
            raise SystemExit("bench_cluster: error replies")
        rps += float(re.search(r"Requests/sec:\s*([0-9.]+)", out).group(1))
        p50 = max(p50, ms(re.search(r"50%\s+([0-9.]+\w+)", out).group(1)))
        p99 = max(p99, ms(re.search(r"99%\s+([0-9.]+\w+)", out).group(1)))
    return rps, p50, p99


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
                f"{w[2]:6.2f} ms)   reads {r[0]:8.0f}/s (p50 {r[1]:6.2f} ms, p99 {r[2]:6.2f} ms)")
        print(line, flush=True)
        out.append(line)


def stable_leader(c):
    """The leader once every node names the same one."""
    end = time.time() + 30
    while time.time() < end:
        seen = set()
        for n in c.nodes:
            st, body = http(n.port, "GET", "/health")
            seen.add((body or {}).get("cluster", {}).get("leader"))
        if len(seen) == 1 and None not in seen:
            return next(m for m in c.nodes if m.addr in seen)
        time.sleep(0.1)
    raise SystemExit("bench_cluster: the nodes do not agree on a leader")


def failover(c, tok):
    """The gap: from the kill to the first write that started after it and was acknowledged."""
    gaps = []
    for k in range(KILLS):
        leader = stable_leader(c)
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
        killed = time.monotonic()
        leader.kill9()
        end = killed + 15
        while time.monotonic() < end and not any(t0 > killed for t0, _ in list(ok)):
            time.sleep(0.01)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        after = [t1 for t0, t1 in ok if t0 > killed]
        gap = min(after) - killed if after else float("inf")
        gaps.append(gap)
        print(f"kill {k + 1}: leader node {leader.id} killed, writes again after {gap:.3f} s",
              flush=True)
        leader.start()
        c.wait_voters(3)
    return gaps


def main():
    results = []
    holder = Cluster.__new__(Cluster)  # a home for the one SQLite server: no cluster
    holder.root = TMP
    single = Node(holder, 1, None)
    single.storage = "sqlite"
    single.start()
    tok, num = user(single, "bench1")
    measure("sqlite, 1 node", [single], tok, num, results)
    single.term()

    c = Cluster(3)
    c.start()
    tok, num = user(c.nodes[0], "bench3")
    measure("dqlite, 3 nodes", c.nodes, tok, num, results)
    gaps = failover(c, tok)
    if not gaps:
        c.stop()
        shutil.rmtree(TMP, True)
        return 0
    finite = [g for g in gaps if g != float("inf")]
    line = (f"failover gap over {len(gaps)} leader kills: median {statistics.median(gaps):.3f} s,"
            f" max {max(gaps):.3f} s ({len(gaps) - len(finite)} without recovery in 15 s)")
    print(line, flush=True)
    c.stop()
    shutil.rmtree(TMP, True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
