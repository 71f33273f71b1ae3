#!/usr/bin/env python3
"""The backup test (docs/backup.md): lintel with wal_checkpoint=external, replicated by
Litestream (the pinned npm binary) to a local directory; a restore of the latest state and a
restore to a time between two writes hold exactly the rows and the avatar written by then, and
a lintel started on a restored copy serves them.

Usage: backup_test.py <work dir>
Environment (from ctest): LINTEL_TEST_BIN, LINTEL_TEST_PLUGIN_DIR, LINTEL_TEST_LITESTREAM (the
binary, or the reason it could not be installed)."""
import datetime
import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "upgrade"))
import upgrade_test as ut  # noqa: E402  (Server, req, ok, png: one copy of the helpers)

SKIP = 77  # ctest SKIP_RETURN_CODE
PW = "correct-horse-backup"
SYNC = 0.2  # seconds: the replica's sync-interval and the database's monitor-interval

CONFIG = """# Written by tests/backup/backup_test.py, the recipe of docs/backup.md.
dbs:
  - path: {db}
    monitor-interval: {sync}s
    replicas:
      - type: file
        path: {replica}
        sync-interval: {sync}s
"""


def log(msg):
    print("backup: " + msg, flush=True)


def litestream(binary, cfg, *args):
    r = subprocess.run([binary] + list(args[:1]) + ["-config", cfg] + list(args[1:]),
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        ut.fail("litestream %s: exit %d: %s%s" % (" ".join(args), r.returncode, r.stdout,
                                                   r.stderr))
    return r.stdout + r.stderr


def rows(path):
    """What a backup must keep: users, numbers, and the avatars' bytes (digests)."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return {
            "users": db.execute("SELECT id, username FROM users ORDER BY id").fetchall(),
            "numbers": db.execute("SELECT id, user_id, value FROM numbers ORDER BY id").fetchall(),
            "avatars": [(uid, v, hashlib.sha256(img).hexdigest()) for uid, v, img in db.execute(
                "SELECT user_id, version, image FROM avatars ORDER BY user_id")],
        }
    finally:
        db.close()


def wait_replicated(binary, cfg, db_path, want, tmp, what):
    """Restores the latest state until it holds want (bounded: 20 s); logs how long that took
    from the call (the writes' replies came just before it)."""
    out = os.path.join(tmp, "probe.db")
    t0 = time.time()
    deadline = t0 + 20
    got = None
    while time.time() < deadline:
        for f in (out, out + "-wal", out + "-shm"):
            if os.path.exists(f):
                os.remove(f)
        try:
            litestream(binary, cfg, "restore", "-o", out, db_path)
            got = rows(out)
            if got == want:
                log("%s: in a restore %.2f s after the last reply" % (what, time.time() - t0))
                return
        except (AssertionError, sqlite3.Error):
            pass  # nothing replicated yet
        time.sleep(SYNC)
    ut.fail("%s: the replica did not catch up within 20 s: %r, expected %r" % (what, got, want))


def restore_checked(binary, cfg, db_path, out_dir, want, what, *extra):
    """Restores into out_dir/lintel.db; checks the rows, integrity and foreign keys."""
    os.makedirs(out_dir, mode=0o700)
    out = os.path.join(out_dir, "lintel.db")
    litestream(binary, cfg, "restore", "-o", out, *extra, db_path)
    got = rows(out)
    if got != want:
        ut.fail("%s: the restored database holds %r, expected %r" % (what, got, want))
    ut.db_checks(out_dir)  # integrity_check and foreign_key_check, with the extension loaded
    return out


def wal_size(data):
    path = os.path.join(data, "lintel.db-wal")
    return os.path.getsize(path) if os.path.exists(path) else 0


def checkpoint_switch(lintel, plugins, tmp):
    """wal_checkpoint: auto folds the WAL into the database at a clean stop; external leaves
    every frame to Litestream; anything else stops the start naming the setting."""
    for mode in ("auto", "external"):
        data = os.path.join(tmp, "ckpt-" + mode)
        os.makedirs(data, mode=0o700)
        srv = ut.Server(lintel, plugins, data, {"LINTEL_WAL_CHECKPOINT": mode}, mode)
        srv.wait_listening()
        ut.ok(srv.url, "POST", "/api/auth/register", want=201,
              body={"username": "ckpt", "password": PW})
        srv.stop()
        size = wal_size(data)
        if (size > 0) != (mode == "external"):
            ut.fail("wal_checkpoint=%s left a WAL of %d bytes after a clean stop" % (mode, size))
    data = os.path.join(tmp, "ckpt-bad")
    os.makedirs(data, mode=0o700)
    srv = ut.Server(lintel, plugins, data, {"LINTEL_WAL_CHECKPOINT": "sometimes"}, "bad")
    rc = srv.proc.wait(timeout=30)
    if rc != 2 or "LINTEL_WAL_CHECKPOINT" not in srv.log_text():
        ut.fail("wal_checkpoint=sometimes: exit %s; log:\n%s" % (rc, srv.log_text()))
    log("wal_checkpoint: auto truncates the WAL at a clean stop, external leaves it")


def main():
    work = sys.argv[1]
    binary = os.environ.get("LINTEL_TEST_LITESTREAM", "")
    lintel, plugins = os.environ["LINTEL_TEST_BIN"], os.environ["LINTEL_TEST_PLUGIN_DIR"]
    os.makedirs(work, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="lintel-backup-", dir=work)
    repl = None
    try:
        checkpoint_switch(lintel, plugins, tmp)
        if not os.access(binary, os.X_OK):
            print("backup: SKIPPED: the Litestream binary of the pinned npm package "
                  "@flydotio/litestream-linux-x64 is not installed: %s" % (binary or "(none)"))
            return SKIP
        log("litestream " + subprocess.run([binary, "version"], capture_output=True, text=True,
                                           timeout=30).stdout.strip())
        data = os.path.join(tmp, "data")
        os.makedirs(data, mode=0o700)
        db_path = os.path.join(data, "lintel.db")
        cfg = os.path.join(tmp, "litestream.yml")
        with open(cfg, "w") as f:
            f.write(CONFIG.format(db=db_path, replica=os.path.join(tmp, "replica"), sync=SYNC))
        env = {"LINTEL_WAL_CHECKPOINT": "external", "LINTEL_PLUGINS": "auth,users,numbers,avatars"}
        srv = ut.Server(lintel, plugins, data, env, "lintel").wait_listening()
        url = srv.url
        repl_log = open(os.path.join(tmp, "litestream.log"), "wb")
        repl = subprocess.Popen([binary, "replicate", "-config", cfg], stdout=repl_log,
                                stderr=repl_log, stdin=subprocess.DEVNULL)

        # 1. first writes: a user, numbers, an avatar
        j = ut.ok(url, "POST", "/api/auth/register", want=201,
                  body={"username": "ann", "password": PW})
        token = j["access_token"]
        for v in (1, 2.5, 3):
            ut.ok(url, "POST", "/api/numbers", token, {"value": v}, want=201)
        ut.ok(url, "PUT", "/api/users/me/avatar", token, ut.png(4, 3), ctype="image/png")
        first = rows(db_path)
        wait_replicated(binary, cfg, db_path, first, tmp, "the first writes")
        # the point in time between the two writes: after the first is replicated, before the
        # second starts (Litestream times a restore by its WAL segments, in whole seconds)
        time.sleep(1.2)
        between = datetime.datetime.now(datetime.timezone.utc)
        time.sleep(1.2)

        # 2. second writes: more numbers, a new avatar, a number deleted
        for v in (40, 50):
            ut.ok(url, "POST", "/api/numbers", token, {"value": v}, want=201)
        ut.ok(url, "PUT", "/api/users/me/avatar", token, ut.png(7, 5), ctype="image/png")
        ut.ok(url, "DELETE", "/api/numbers/%d" % first["numbers"][0][0], token, want=204)
        second = rows(db_path)
        if second == first:
            ut.fail("the second writes changed nothing")
        wait_replicated(binary, cfg, db_path, second, tmp, "the second writes")

        # 3. a write just before a clean stop: lintel leaves the WAL to Litestream, loses nothing
        ut.ok(url, "POST", "/api/numbers", token, {"value": 99}, want=201)
        srv.stop()
        last = rows(db_path)
        wait_replicated(binary, cfg, db_path, last, tmp, "the write before the stop")
        repl.send_signal(signal.SIGTERM)
        repl.wait(timeout=30)
        repl = None

        # 4. restores: the latest, and the time between the two writes
        restore_checked(binary, cfg, db_path, os.path.join(tmp, "latest"), last, "latest")
        pit = restore_checked(binary, cfg, db_path, os.path.join(tmp, "between"), first,
                              "to %s" % between.isoformat(), "-timestamp",
                              between.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
        log("restored the latest state (%d numbers) and the state at %s (%d numbers, the first "
            "avatar)" % (len(last["numbers"]), between.strftime("%H:%M:%S.%f")[:-3],
                         len(first["numbers"])))

        # 5. lintel serves a restored copy: the rows and the avatar of that time
        rdata = os.path.join(tmp, "restored")
        os.makedirs(rdata, mode=0o700)
        shutil.copy(pit, os.path.join(rdata, "lintel.db"))
        srv = ut.Server(lintel, plugins, rdata, env, "restored").wait_listening()
        j = ut.ok(srv.url, "POST", "/api/auth/login", body={"username": "ann", "password": PW})
        listed = ut.ok(srv.url, "GET", "/api/numbers", j["access_token"])
        if [n["id"] for n in listed["items"]] != [n[0] for n in first["numbers"]]:
            ut.fail("the restored server lists %r" % listed)
        status, img = ut.req(srv.url, "GET", "/api/users/me/avatar", j["access_token"], raw=True)
        if status != 200 or hashlib.sha256(img).hexdigest() != first["avatars"][0][2]:
            ut.fail("the restored server's avatar: %d, %d bytes" % (status, len(img)))
        srv.stop()
        log("a lintel on the restored copy serves its rows and avatar")
    finally:
        if repl is not None:
            repl.kill()
            repl.wait()
        for p in ut.PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print("backup: FAILED: %s" % e, file=sys.stderr)
        sys.exit(1)
