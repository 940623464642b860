#!/bin/sh
# nested-timeout: 180
# vmm serve --workers on: each VM in its own process, and the manager holds
# no KVM descriptor. kill -9 of one worker among three running VMs: that VM
# becomes shut down as crashed (GUEST_CRASHED names it and says its worker
# died), the two others keep ticking, the socket answers, and the dead VM
# can be destroyed and made again.
. "$(dirname "$0")/lib.sh"
need_kvm
VMM_SERVE_WORKERS=on
step() { echo "step: $*"; }
serve_start
events_start
ticks() { grep -c '^tick' "$T/$1.console"; }
for v in a b c; do
    ctl_ok vm-create name=$v start=true "config={\"vm\":{\"memory\":\"32M\"},\"boot\":{\"firmware\":\"ticker\"},\"console\":{\"file\":\"$T/$v.console\"}}"
done
for v in a b c; do wait_for "$T/$v.console" "tick 2"; done

# The manager opened no /dev/kvm and maps no guest: the workers do.
step created
ls -l /proc/$serve_pid/fd | grep -q kvm && fail "vmm serve --workers on holds a KVM descriptor"
wb=$(worker_of b)
[ -n "$wb" ] || fail "no process has b's console open"
[ "$(echo "$wb" | wc -l)" = 1 ] || fail "more than one process has b's console open: $wb"
[ "$wb" != "$serve_pid" ] || fail "b runs in vmm serve itself"
wa=$(worker_of a)
wc=$(worker_of c)
ls -l /proc/$wb/fd | grep -q kvm || fail "b's worker $wb holds no KVM descriptor"

step "killing b's worker $wb"
kill -9 "$wb"
wait_for "$T/events" '"event":"GUEST_CRASHED","data":{"vm":"b"'
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"b"'
grep '"GUEST_CRASHED","data":{"vm":"b"' "$T/events" | grep -q 'its worker has died' ||
    fail "GUEST_CRASHED of b does not say its worker died: $(cat "$T/events")"
grep '"GUEST_CRASHED","data":{"vm":"b"' "$T/events" | grep -q 'killed by signal 9' ||
    fail "GUEST_CRASHED of b does not say how: $(cat "$T/events")"
[ "$(status_of b)" = shutdown ] || fail "b is not shut down after its worker was killed"
ctl_ok query-vm vm=b
grep -q '"reason":"guest-crash","status":120' "$T/ctl.out" || fail "query-vm b: $(cat "$T/ctl.out")"
grep -qE '"event":"(SHUTDOWN|GUEST_CRASHED)","data":\{"vm":"[ac]"' "$T/events" &&
    fail "a or c stopped too: $(cat "$T/events")"

step b crashed
# a and c tick on, and answer
for v in a c; do
    n=$(ticks $v)
    wait_for "$T/$v.console" "tick $((n + 2))"
    [ "$(status_of $v)" = running ] || fail "$v is not running after b's worker died"
done
ctl_ok stop vm=a
[ "$(status_of a)" = paused ] || fail "a did not pause"
ctl_ok cont vm=a
step a and c run on
ctl_ok vm-destroy vm=b
ctl_ok vm-create name=b start=true "config={\"vm\":{\"memory\":\"32M\"},\"boot\":{\"firmware\":\"ticker\"},\"console\":{\"file\":\"$T/b2.console\"}}"
wait_for "$T/b2.console" "tick 2"
step quit
serve_quit
step quit done
wait "$events_pid"
step events done
# the workers ended with vmm serve
for p in $wa $wc; do
    kill -0 "$p" 2>/dev/null && fail "worker $p outlived vmm serve"
done
exit 0
