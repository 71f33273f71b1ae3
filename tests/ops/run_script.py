#!/usr/bin/env python3
"""scripts/run.sh (make run): with the simulator's own LINTEL_SIM_* variables set, lintel still
starts (it refuses unknown LINTEL_* settings, so run.sh must not hand them over), and Ctrl-C
(SIGINT to the script) stops both cleanly."""
import os
import re
import signal
import socket
import subprocess
import tempfile

src = os.environ["LINTEL_TEST_SOURCE_DIR"]
build = os.path.dirname(os.path.dirname(os.environ["LINTEL_TEST_BIN"]))
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    sim_port = s.getsockname()[1]
with tempfile.TemporaryDirectory() as data:
    env = dict(os.environ, LINTEL_PORT="0", LINTEL_DATA_DIR=data, LINTEL_SIM_PORT=str(sim_port),
               LINTEL_SIM_INVALID="0.5", LINTEL_PLUGIN_DIR=os.environ["LINTEL_TEST_PLUGIN_DIR"],
               LINTEL_ADMIN_PASSWORD="admin-password-for-tests")
    env.pop("LINTEL_UPSTREAM_URL", None)
    p = subprocess.Popen(["sh", os.path.join(src, "scripts", "run.sh"), build], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         start_new_session=True)
    out = ""
    try:
        for line in p.stdout:
            out += line
            if re.search(r"listening on http://127\.0\.0\.1:\d+$", line.strip()) and \
                    "sensor" not in line:
                break
        else:
            raise AssertionError("lintel did not start under run.sh:\n" + out)
    finally:
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
        out += p.stdout.read()
        code = p.wait(timeout=60)
    assert "no such setting" not in out, out
    assert "stopped cleanly" in out, out
    assert code == 0, (code, out)
print("run.sh: lintel starts beside the simulator and stops cleanly on Ctrl-C")
