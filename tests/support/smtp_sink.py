#!/usr/bin/env python3
# A tiny SMTP sink for the tests: listens on 127.0.0.1 (port 0: any free one, written to
# <dir>/port), accepts every mail and stores each as <dir>/mail-N.eml. Plain SMTP only (no
# STARTTLS, no AUTH), one connection at a time; exits when <dir>/stop appears or after 300 s.
import os
import socket
import sys
import time

def main():
    out = sys.argv[1]
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    tmp = os.path.join(out, "port.tmp")
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, os.path.join(out, "port"))
    n = 0
    deadline = time.time() + 300
    while time.time() < deadline and not os.path.exists(os.path.join(out, "stop")):
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        conn.settimeout(10)
        f = conn.makefile("rwb")
        def say(line):
            f.write(line.encode() + b"\r\n")
            f.flush()
        try:
            say("220 lintel-test-sink ESMTP")
            rcpt = []
            while True:
                line = f.readline(4096)
                if not line:
                    break
                cmd = line.decode("utf-8", "replace").strip()
                up = cmd.upper()
                if up.startswith("EHLO"):
                    say("250-lintel-test-sink")
                    say("250 8BITMIME")
                elif up.startswith("HELO"):
                    say("250 lintel-test-sink")
                elif up.startswith("MAIL FROM:"):
                    rcpt = []
                    mail_from = cmd[10:].strip()
                    say("250 OK")
                elif up.startswith("RCPT TO:"):
                    rcpt.append(cmd[8:].strip())
                    say("250 OK")
                elif up == "DATA":
                    say("354 End data with <CR><LF>.<CR><LF>")
                    data = []
                    size = 0
                    while True:
                        l = f.readline(65536)
                        if not l or l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        size += len(l)
                        if size > 1 << 20:
                            break
                        data.append(l)
                    n += 1
                    path = os.path.join(out, "mail-%d.eml" % n)
                    with open(path + ".tmp", "wb") as m:
                        m.write(b"X-Envelope-From: " + mail_from.encode() + b"\r\n")
                        m.write(b"X-Envelope-To: " + ",".join(rcpt).encode() + b"\r\n")
                        m.write(b"".join(data))
                    os.rename(path + ".tmp", path)
                    say("250 OK queued")
                elif up == "QUIT":
                    say("221 Bye")
                    break
                elif up in ("RSET", "NOOP"):
                    say("250 OK")
                else:
                    say("502 Command not implemented")
        except (socket.timeout, OSError):
            pass
        finally:
            try:
                f.close()
                conn.close()
            except OSError:
                pass

if __name__ == "__main__":
    main()
