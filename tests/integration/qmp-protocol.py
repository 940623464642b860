#!/usr/bin/env python3
"""Raw QMP against vmm serve (see qmp-protocol.sh). Exits non-zero on the
first failed check, saying which."""
import json
import socket
import sys
import time

PATH = sys.argv[1]


class Client:
    def __init__(self):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(PATH)
        self.s.settimeout(10)
        self.buf = b""

    def line(self):
        while b"\n" not in self.buf:
            data = self.s.recv(65536)
            if not data:
                return None
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        assert line.endswith(b"\r"), f"line not ending in CRLF: {line!r}"
        return line[:-1]

    def msg(self):
        line = self.line()
        return None if line is None else json.loads(line)

    def reply(self):
        """The next message that is not an event."""
        while True:
            m = self.msg()
            if m is None or "event" not in m:
                return m

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def ask(self, cmd, args=None, id_=None):
        req = {"execute": cmd}
        if args is not None:
            req["arguments"] = args
        if id_ is not None:
            req["id"] = id_
        self.send(json.dumps(req, separators=(",", ":")))
        return self.reply()

    def negotiate(self):
        g = self.msg()
        check(set(g) == {"QMP"}, f"greeting {g}")
        r = self.ask("qmp_capabilities")
        check(r == {"return": {}}, f"qmp_capabilities -> {r}")


def check(cond, what):
    if not cond:
        print("FAIL:", what)
        sys.exit(1)


def error_class(r):
    return r.get("error", {}).get("class")


# greeting and negotiation
c = Client()
g = c.msg()
v = g["QMP"]["version"]
check(set(v["qemu"]) == {"major", "minor", "micro"}, f"version {v}")
check(v["package"].startswith("vmm "), f"package {v}")
check(g["QMP"]["capabilities"] == [], f"capabilities {g}")
r = c.ask("query-vms", id_=1)
check(error_class(r) == "CommandNotFound" and "qmp_capabilities" in r["error"]["desc"]
      and r["id"] == 1, f"before negotiation -> {r}")
r = c.ask("qmp_capabilities", id_={"any": ["json", 1.5, None]})
check(r == {"return": {}, "id": {"any": ["json", 1.5, None]}}, f"id echoed -> {r}")
r = c.ask("qmp_capabilities")
check(error_class(r) == "CommandNotFound", f"second qmp_capabilities -> {r}")

# split across writes, and several in one write, with no separator
c.send('{"execute":"query-')
time.sleep(0.05)
c.send('vms","id":"a"}')
check(c.reply() == {"return": [], "id": "a"}, "split request")
c.send("".join(f'{{"execute":"query-vms","id":{i}}}' for i in range(50)))
for i in range(50):
    r = c.reply()
    check(r == {"return": [], "id": i}, f"coalesced request {i} -> {r}")
# one byte at a time
for b in '{"execute":"query-version","id":"slow"}':
    c.send(b)
r = c.reply()
check(r.get("id") == "slow" and "qemu" in r["return"], f"byte by byte -> {r}")

# bad input: an error each, and the connection stays usable
for bad, want in [("{\"execute\":}", "JSON parse error"),
                  ("[1]", "must be a JSON object"),
                  ("{\"execute\":\"query-vms\",\"foo\":1}", "'foo' is unexpected"),
                  ("{\"arguments\":{}}", "lacks member 'execute'"),
                  ("{\"execute\":\"query-status\",\"arguments\":{\"vm\":[]}}", "Invalid parameter type"),
                  ("{\"execute\":\"vm-create\",\"arguments\":{\"name\":\"x\"}}", "'config' is missing"),
                  # checked against the schema before the VM is looked up
                  ("{\"execute\":\"monitor-calls\",\"arguments\":{\"vm\":\"x\",\"first\":-1,\"last\":1}}",
                   "'first' must be 0 to 4294967295"),
                  ("{\"execute\":\"call-return\",\"arguments\":{\"token\":1,\"results\":[\"1\"]}}",
                   "expected: array of integers")]:
    c.send(bad)
    r = c.reply()
    check(error_class(r) == "GenericError" and want in r["error"]["desc"], f"{bad} -> {r}")
check(c.ask("query-vms", id_=2) == {"return": [], "id": 2}, "usable after errors")
r = c.ask("query-events", id_=6)
check({"name": "SHUTDOWN"} in r["return"] and r["id"] == 6, f"query-events -> {r}")

# ids come back byte for byte, in strict JSON (1e17 came back as 1e+17.0,
# 2^64 as -1)
def strict(line):
    def no_constant(name):
        raise ValueError(name)
    return json.loads(line, parse_constant=no_constant)


for raw in ["0", "-1", "9007199254740992", "9223372036854775807", "1e17", "1.5", '"x"',
            "{}", "[]", "true", "null", '{"a":[-0.5e-3,"\\u00e9"]}']:
    c.send('{"execute":"query-vms","id":%s}' % raw)
    line = c.line()
    check(line == ('{"return":[],"id":%s}' % raw).encode(), f"id {raw} -> {line!r}")
    strict(line)
# NUL in a string, non-standard JSON, integers json-glib would wrap: refused
for bad in ['{"execute":"query-version\\u0000x"}', "{'execute':'query-version'}",
            '{"execute":"query-vms","id":18446744073709551616}',
            '{"execute":"query-vms","id":0x10}', '{"execute":"query-vms","id":"\\udc00"}',
            '{"execute":"quit","execute":"query-vms"}']:
    c.send(bad)
    line = c.line()
    r = strict(line)
    check(error_class(r) == "GenericError" and "return" not in r, f"{bad} -> {line!r}")
check(c.ask("query-vms", id_=5) == {"return": [], "id": 5}, "usable after strictness")

# many clients at once, interleaved
clients = [Client() for _ in range(16)]
for k in clients:
    k.negotiate()
for i, k in enumerate(clients):
    k.send(f'{{"execute":"query-vms","id":{i}}}')
for i, k in enumerate(clients):
    check(k.reply() == {"return": [], "id": i}, f"client {i}")

# a client vanishing in the middle of a request, and right after sending one
v1 = Client()
v1.negotiate()
v1.send('{"execute":"query-')
v1.s.close()
v2 = Client()
v2.negotiate()
v2.send('{"execute":"query-vms"}' * 100)
v2.s.close()
check(c.ask("query-vms", id_=3) == {"return": [], "id": 3}, "usable after vanishing clients")

# over 1 MiB: refused, and that connection closed
big = Client()
big.negotiate()
try:
    big.send('{"execute":"query-vms","id":"' + "x" * (1 << 20) + '"}')
except (BrokenPipeError, ConnectionResetError):
    pass
r = big.msg()
check(r is not None and error_class(r) == "GenericError" and "too large" in r["error"]["desc"],
      f"oversize -> {r}")
check(big.line() is None, "oversize connection not closed")
check(c.ask("query-vms", id_=4) == {"return": [], "id": 4}, "usable after oversize")
for k in clients:
    k.s.close()
print("ok")
