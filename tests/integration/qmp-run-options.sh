#!/bin/sh
# vmm run --qmp takes every run option and ends as vmm run does: a config
# with --cpus, --memory and --console over it (query-vm sees them, the
# console goes to the file), no thread with a capability, SIGTERM (143, "stopped by SIGTERM"), the
# timeout with its hint (124, one line saying the guest never wrote to its
# console), and the options' own errors (125)
. "$(dirname "$0")/lib.sh"
need_kvm

cmdline="vmm run --qmp unix:$QMP_SOCK --cpus 2 --memory 32M --console con.txt spin.toml"
"$VMM" run --qmp "unix:$QMP_SOCK" --cpus 2 --memory 32M --console "$T/con.txt" \
    "$CONFIGS/spin.toml" >"$T/stdout" 2>"$T/stderr" </dev/null &
pid=$!
trap 'kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
answers() {
    kill -0 "$pid" 2>/dev/null || fail "vmm run --qmp ended at start: $(cat "$T/stderr")"
    "$VMM" ctl --qmp "$QMP_SOCK" query-version >/dev/null 2>&1
}
wait_until 20 "vmm run's socket $QMP_SOCK to answer" answers
ctl_ok query-vm
grep -q '"vcpus": *2' "$T/ctl.out" || fail "query-vm, --cpus 2: $(cat "$T/ctl.out")"
grep -q '"memory": *33554432' "$T/ctl.out" || fail "query-vm, --memory 32M: $(cat "$T/ctl.out")"
wait_for "$T/con.txt" spinning
# as vmm run: no thread keeps a capability (GLib's own "gmain" among them)
for st in /proc/"$pid"/task/*/status; do
    for f in CapPrm CapEff; do
        v=$(sed -n "s/^$f:[[:space:]]*//p" "$st")
        case "$v" in *[!0]*) fail "thread $(sed -n 's/^Name:[[:space:]]*//p' "$st"): $f is $v" ;; esac
    done
done
kill -TERM "$pid"
wait "$pid"
status=$?
expect_status 143
expect_stderr_has "stopped by SIGTERM"
[ ! -s "$T/stdout" ] || fail "console output on stdout despite --console"
[ ! -e "$QMP_SOCK" ] || fail "the socket is left after SIGTERM"
trap 'rm -rf "$T"' EXIT

# a guest that never writes a byte: the timeout says so
vmm run --qmp "unix:$QMP_SOCK" --timeout 2 "$CONFIGS/idle.toml"
expect_status 124
n=$(grep -c '' "$T/stderr")
[ "$n" = 1 ] || fail "$n lines on stderr, expected one"
expect_stderr_has "timeout: the guest was still running after 2 s and never wrote to its console"

# the options' errors are those of vmm run
vmm run --qmp "unix:$QMP_SOCK" --initrd "$T/none" "$CONFIGS/spin.toml"
expect_status 125
expect_stderr_has "--initrd needs a kernel (--kernel)"
vmm run --qmp "unix:$QMP_SOCK" --cpus 0 "$CONFIGS/spin.toml"
expect_status 125
expect_stderr_has "--cpus"
[ ! -e "$QMP_SOCK" ] || fail "a socket was made for a run that never started"
exit 0
