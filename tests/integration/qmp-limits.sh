#!/bin/sh
# The control socket's limits over a real socket, spoken raw by a test
# client (python3; skipped where there is none, as in the nested bed): the
# client cap (--max-clients, [control] max-clients), clients that never
# read their replies, a half-closing client, and running out of file
# descriptors. Needs no KVM.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3"
py() {
    cmdline="qmp-limits.py $*"
    python3 "$TESTDIR/qmp-limits.py" "$@" >"$T/stdout" 2>"$T/stderr" || fail "qmp-limits.py $1 failed"
}

# bad values
vmm serve --qmp "unix:$QMP_SOCK" --max-clients 0
expect_status 125
vmm serve --qmp "unix:$QMP_SOCK" --max-clients lots
expect_status 125
vmm serve --qmp "unix:$QMP_SOCK" --workers maybe
expect_status 125
expect_stderr_has "--workers: expected on or off"
vmm serve --qmp "unix:$QMP_SOCK" --sandbox maybe
expect_status 125
vmm serve --qmp "unix:$QMP_SOCK" --worker-user no-such-user-here
expect_status 125
expect_stderr_has "--worker-user: no user no-such-user-here"
vmm serve --qmp "unix:$QMP_SOCK" --worker-user 1:99999999999
expect_status 125

# (memory growth means nothing under AddressSanitizer's quarantine)
if ! grep -qa __asan_init "$VMM"; then
    serve_start
    py flood "$QMP_SOCK" "$serve_pid"
    serve_quit
fi
serve_start --max-clients 3
py cap "$QMP_SOCK" 3
grep -q "a client was refused" "$T/serve.err" || fail "no log line for the refused client"
serve_quit
# vmm ctl on a full server says why, and exits 2 (it could not get in)
serve_start --max-clients 1
python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.recv(4096)
sys.stdout.write("in\n"); sys.stdout.flush(); time.sleep(30)' "$QMP_SOCK" >"$T/holder" &
holder=$!
wait_for "$T/holder" in
ctl query-vms
kill "$holder"
[ "$ctl_status" = 2 ] || fail "vmm ctl on a full server exited $ctl_status"
grep -q "GenericError: Too many clients (the limit is 1)" "$T/ctl.err" ||
    fail "vmm ctl on a full server: $(cat "$T/ctl.err")"
wait "$holder" 2>/dev/null
# room again once the server has seen the holder go
_i=0
until "$VMM" ctl --qmp "$QMP_SOCK" query-version >/dev/null 2>&1; do
    [ "$_i" -lt "$(scaled 100)" ] || fail "no room on the server $(scaled 10) s after its one client left"
    sleep 0.1
    _i=$((_i + 1))
done
serve_quit

# the manager config's [control] max-clients; the command line wins
printf '[control]\nmax-clients = 2\n' >"$T/manager.toml"
serve_start --config "$T/manager.toml"
py cap "$QMP_SOCK" 2
serve_quit
serve_start --config "$T/manager.toml" --max-clients 4
py cap "$QMP_SOCK" 4
serve_quit
printf '[control]\nmax-clients = -1\n' >"$T/bad.toml"
vmm serve --qmp "unix:$QMP_SOCK" --config "$T/bad.toml"
expect_status 125
expect_stderr_has "max-clients"

# out of descriptors: few of them, more clients than that
cmdline="vmm serve (ulimit -n 24)"
(ulimit -n 24 && exec "$VMM" serve --qmp "unix:$QMP_SOCK") >"$T/serve.out" 2>"$T/serve.err" </dev/null &
serve_pid=$!
trap 'kill -KILL $serve_pid 2>/dev/null; rm -rf "$T"' EXIT
_i=0
until [ -S "$QMP_SOCK" ]; do
    [ "$_i" -lt "$(scaled 100)" ] || fail "no socket after $(scaled 10) s"
    sleep 0.1
    _i=$((_i + 1))
done
py fds "$QMP_SOCK" "$serve_pid" "$T/serve.err"
serve_quit
exit 0
