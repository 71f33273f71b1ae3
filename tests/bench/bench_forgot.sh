#!/bin/sh
# Timing of POST /api/auth/password/forgot for a known and an unknown address, interleaved on
# one keep-alive connection (docs/auth.md "Password reset": the answer must not tell them
# apart). Prints median and p90 of each and the difference of the medians; a real SMTP sink on
# loopback takes the mails. Usage: tests/bench/bench_forgot.sh BUILD_DIR (env: BENCH_N pairs)
set -eu

build=$(cd "${1:-build}" && pwd)
n=${BENCH_N:-400}
bench_name=bench_forgot
. "$(dirname "$0")/lib.sh"
bench_need curl python3
here=$(cd "$(dirname "$0")" && pwd)

mkdir -p "$tmp/sink"
python3 "$here/../support/smtp_sink.py" "$tmp/sink" &
bench_bg=$!
i=0
while [ ! -s "$tmp/sink/port" ]; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || { echo "bench_forgot: the SMTP sink did not start" >&2; exit 1; }
    sleep 0.05
done
bench_start LINTEL_SMTP_URL="smtp://127.0.0.1:$(cat "$tmp/sink/port")" \
    LINTEL_SMTP_FROM=bench@example.test LINTEL_FORGOT_MAX_EMAIL=0 LINTEL_FORGOT_MAX_IP=0
curl -sS -o /dev/null -X POST -H 'Content-Type: application/json' \
    -d '{"username":"known","password":"bench-password-123","email":"known@example.test"}' \
    "$url/api/auth/register"

python3 - "$bench_port" "$n" <<'PY'
import http.client, json, statistics, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
t = {"known": [], "unknown": []}
bodies = {"known": "known@example.test", "unknown": "nobody@example.test"}
for i in range(n * 2):
    kind = "known" if i % 2 == 0 else "unknown"
    body = json.dumps({"email": bodies[kind]})
    t0 = time.perf_counter()
    c.request("POST", "/api/auth/password/forgot", body, {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    dt = (time.perf_counter() - t0) * 1e6
    if r.status != 202:
        sys.exit("bench_forgot: status %d" % r.status)
    if i >= 20:  # warm-up
        t[kind].append(dt)
for kind in ("known", "unknown"):
    v = sorted(t[kind])
    print("forgot %-7s n=%d median %.0f us  p90 %.0f us" % (kind, len(v), statistics.median(v),
          v[int(len(v) * 0.9)]))
d = statistics.median(t["known"]) - statistics.median(t["unknown"])
print("median difference (known - unknown): %+.0f us" % d)
PY
