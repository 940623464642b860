#!/bin/sh
# A reader of vmm's output that goes away costs that output, never vmm:
# with stdout piped to "head -n 1", vmm run goes on to its own end (here
# --timeout: 124, not 141, death by SIGPIPE) and says the output is
# dropped; under vmm serve, the VM and the control socket carry on.
. "$(dirname "$0")/lib.sh"
need_kvm

# vmm run: the guest ticks for ever; head takes the first line and leaves
( "$VMM" run --timeout 4 "$CONFIGS/ticker.toml" 2>"$T/stderr" </dev/null; echo $? >"$T/status" ) |
    head -n 1 >"$T/first"
cmdline="vmm run --timeout 4 ticker.toml | head -n 1"
status=$(cat "$T/status")
grep -q "ticker: start" "$T/first" || fail "head saw no first line: $(cat "$T/first")"
[ "$status" = 124 ] || fail "vmm ended with $status (141: killed by SIGPIPE), expected 124"
grep -q "console: Broken pipe" "$T/stderr" || fail "no report of the lost reader on stderr"

# vmm serve: its stdout (the VM's console) and stderr to readers that leave
mkfifo "$T/out" "$T/err"
head -n 1 <"$T/out" >"$T/serve.first" &
hpid=$!
head -c 1 <"$T/err" >/dev/null &
"$VMM" serve --qmp "unix:$QMP_SOCK" >"$T/out" 2>"$T/err" </dev/null &
serve_pid=$!
trap 'kill -KILL $serve_pid 2>/dev/null; rm -rf "$T"' EXIT
_i=0
while ! "$VMM" ctl --qmp "$QMP_SOCK" query-version >/dev/null 2>&1; do
    kill -0 "$serve_pid" 2>/dev/null || fail "vmm serve ended at start"
    [ "$_i" -lt "$(scaled 200)" ] || fail "no socket after $(scaled 20) s"
    sleep 0.1
    _i=$((_i + 1))
done
ctl_ok vm-create name=t "config=$CONFIGS/ticker.toml" start=true
wait "$hpid"   # the first console line came, and its reader left
grep -q "ticker: start" "$T/serve.first" || fail "no first console line under serve"
# a few more ticks into the closed pipe, and a log line into the closed stderr
ctl_err "No VM named" query-status vm=nope
sleep 2
kill -0 "$serve_pid" 2>/dev/null || fail "vmm serve died when its readers went away"
[ "$(status_of t)" = running ] || fail "the VM is no longer running"
ctl_ok quit
wait "$serve_pid"
status=$?
[ "$status" = 0 ] || fail "vmm serve exited $status after quit"
exit 0
