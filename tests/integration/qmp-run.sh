#!/bin/sh
# vmm run --qmp: one VM, and commands without a VM name act on it; quit
# ends vmm (status 0) and removes the socket; a guest that ends by itself
# ends vmm with its status, and the socket goes too
. "$(dirname "$0")/lib.sh"
need_kvm
cmdline="vmm run --qmp unix:$QMP_SOCK $CONFIGS/spin.toml"
"$VMM" run --qmp "unix:$QMP_SOCK" "$CONFIGS/spin.toml" >"$T/stdout" 2>"$T/stderr" </dev/null &
pid=$!
trap 'kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
# the socket answering, not merely there (vmm binds it before it listens)
answers() {
    kill -0 "$pid" 2>/dev/null || fail "vmm run --qmp ended at start: $(cat "$T/stderr")"
    "$VMM" ctl --qmp "$QMP_SOCK" query-version >/dev/null 2>&1
}
wait_until 20 "vmm run's socket $QMP_SOCK to answer" answers
ctl_ok query-status
grep -q '"status":"running"' "$T/ctl.out" || fail "query-status: $(cat "$T/ctl.out")"
ctl_ok stop
ctl_ok query-status
grep -q '"status":"paused"' "$T/ctl.out" || fail "query-status after stop: $(cat "$T/ctl.out")"
ctl_ok cont
ctl_ok query-vm
grep -q '"name":"spin"' "$T/ctl.out" || fail "query-vm: $(cat "$T/ctl.out")"
ctl_ok quit
wait "$pid"
status=$?
expect_status 0
[ ! -e "$QMP_SOCK" ] || fail "the socket is left after quit"

vmm run --qmp "unix:$QMP_SOCK" "$CONFIGS/exit3.toml"
expect_status 3
[ ! -e "$QMP_SOCK" ] || fail "the socket is left after the guest ended"
exit 0
