#!/usr/bin/env python3
"""The control socket's limits against a real vmm serve (see qmp-limits.sh):
  qmp-limits.py cap SOCKET N        N clients served, one more refused
  qmp-limits.py flood SOCKET PID    clients that never read, half-closers
  qmp-limits.py fds SOCKET PID ERR  out of descriptors: no spin, no flood
Exits non-zero on the first failed check, saying which."""
import json
import os
import socket
import sys
import time


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


class Client:
    def __init__(self, path, negotiate=True):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(20)
        self.buf = b""
        if negotiate:
            g = self.msg()
            check(g is not None and "QMP" in g, f"greeting {g}")
            self.send('{"execute":"qmp_capabilities"}')
            check(self.msg() == {"return": {}}, "qmp_capabilities")

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def msg(self):
        line = self.line()
        return None if line is None else json.loads(line)

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def ask_vms(self, id_):
        self.send(f'{{"execute":"query-vms","id":{id_}}}')
        r = self.msg()
        check(r == {"return": [], "id": id_}, f"query-vms {id_} -> {r}")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cap(path, n):
    clients = [Client(path) for _ in range(n)]
    extra = Client(path, negotiate=False)
    r = extra.msg()
    check(r is not None and r.get("error", {}).get("class") == "GenericError"
          and f"the limit is {n}" in r["error"]["desc"], f"client {n + 1} -> {r}")
    check(extra.line() is None, "the refused client was not closed")
    for i, c in enumerate(clients):
        c.ask_vms(i)
    clients.pop().s.close()
    # room again, once the server has seen it go
    deadline = time.monotonic() + 10
    while True:
        c = Client(path, negotiate=False)
        g = c.msg()
        if g is not None and "QMP" in g:
            break
        check(time.monotonic() < deadline, "no room after a client left")
        time.sleep(0.05)
    for k in clients:
        k.s.close()
    c.s.close()


def flood(path, pid):
    base = rss_kib(pid)
    req = b"".join(b'{"execute":"query-commands","id":%d}' % i for i in range(50000))
    silent = []
    for _ in range(20):
        c = Client(path)
        c.s.setblocking(False)
        sent = 0
        # as much as the server takes: it must stop taking
        idle = 0
        while sent < len(req) and idle < 20:
            try:
                sent += c.s.send(req[sent:sent + 65536])
                idle = 0
            except BlockingIOError:
                idle += 1
                time.sleep(0.01)
            except (BrokenPipeError, ConnectionResetError):
                check(False, "the server dropped a client for not reading its replies")
        check(sent < len(req), "the server read everything from a client that never reads")
        silent.append(c)
    grown = rss_kib(pid) - base
    check(grown < 24 * 1024, f"20 clients that never read grew vmm by {grown} KiB")
    # the server still answers others
    c = Client(path)
    c.ask_vms(1)
    # a client that half-closes after its requests gets every reply
    h = Client(path)
    n = 3000
    h.send(b"".join(b'{"execute":"query-commands","id":%d}' % i for i in range(n)))
    h.s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        m = h.msg()
        if m is None:
            break
        check(m.get("id") == got, f"half-close: reply {got} -> {str(m)[:80]}")
        got += 1
    check(got == n, f"half-close: {got} of {n} replies")
    for k in silent:
        k.s.close()
    c.ask_vms(2)


def fds(path, pid, errfile):
    held = []
    # more connections than descriptors: the rest wait in the backlog
    for _ in range(40):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except (BlockingIOError, ConnectionRefusedError):
            s.close()
            break
        held.append(s)
    time.sleep(0.3)
    before = cpu_seconds(pid)
    time.sleep(1.0)
    used = cpu_seconds(pid) - before
    check(used < 0.15, f"vmm serve used {used:.2f} s of CPU in 1 s while out of descriptors")
    with open(errfile) as f:
        lines = [l for l in f if "accept" in l]
    check(1 <= len(lines) <= 3, f"{len(lines)} accept lines in the log: {lines[:3]}")
    for s in held:
        s.close()
    # descriptors back: served again
    deadline = time.monotonic() + 10
    while True:
        try:
            c = Client(path)
            c.ask_vms(3)
            break
        except (OSError, SystemExit):
            check(time.monotonic() < deadline, "not served after descriptors came back")
            time.sleep(0.1)


mode = sys.argv[1]
if mode == "cap":
    cap(sys.argv[2], int(sys.argv[3]))
elif mode == "flood":
    flood(sys.argv[2], int(sys.argv[3]))
elif mode == "fds":
    fds(sys.argv[2], int(sys.argv[3]), sys.argv[4])
print("ok")
