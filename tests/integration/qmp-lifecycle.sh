#!/bin/sh
# vmm serve + vmm ctl, a VM's whole life: created in prelaunch from an
# inline config, its policy set before start and refused after, started,
# paused (the guest's ticks stop) and resumed (they go on), reset (the
# guest starts over), a second VM from a TOML path that ends by itself with
# its status in query-vm, events for all of it, destroy, quit
. "$(dirname "$0")/lib.sh"
need_kvm
serve_start
events_start
ticks() { grep -c '^tick' "$T/t.console"; }

ctl_ok vm-create name=t "config={\"vm\":{\"memory\":\"64M\",\"vcpus\":2},\"boot\":{\"firmware\":\"ticker\"},\"console\":{\"file\":\"$T/t.console\"}}"
[ "$(status_of t)" = prelaunch ] || fail "a new VM is not in prelaunch"
ctl_ok set-policy vm=t 'flags=["info"]'
ctl_ok query-policy vm=t
grep -q '"flags":\["info"\]' "$T/ctl.out" || fail "query-policy after set-policy: $(cat "$T/ctl.out")"

ctl_ok vm-start vm=t
wait_for "$T/events" '"event":"VM_STARTED"'
[ "$(status_of t)" = running ] || fail "not running after vm-start"
wait_for "$T/t.console" "tick 3"
ctl_err "fixed once it has run" set-policy vm=t role=service

ctl_ok stop vm=t
wait_for "$T/events" '"event":"STOP"'
[ "$(status_of t)" = paused ] || fail "not paused after stop"
n1=$(ticks)
sleep 1
n2=$(ticks)
[ "$n1" = "$n2" ] || fail "the guest ticked while paused ($n1 then $n2)"
ctl_ok cont vm=t
wait_for "$T/events" '"event":"RESUME"'
wait_for "$T/t.console" "tick $((n2 + 2))"

ctl_ok system_reset vm=t
wait_for "$T/events" '"event":"RESET"'
started_twice() { [ "$(grep -c 'ticker: start' "$T/t.console")" -ge 2 ]; }
wait_show=$T/t.console
wait_until 20 "the guest to start over after system_reset" started_twice
[ "$(status_of t)" = running ] || fail "not running after system_reset"
ctl_err "no power button" system_powerdown vm=t

ctl_ok vm-create name=h "config=$VMM_SRCDIR/tests/integration/configs/exit3.toml" start=true
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"h"'
grep '"event":"SHUTDOWN","data":{"vm":"h"' "$T/events" | grep -q '"status":3' ||
    fail "SHUTDOWN of h lacks status 3: $(cat "$T/events")"
ctl_ok query-vm vm=h
grep -q '"exit":{"reason":"guest-exit","status":3}' "$T/ctl.out" || fail "query-vm h: $(cat "$T/ctl.out")"
ctl_ok query-vms
grep -q '"name":"h"' "$T/ctl.out" || fail "query-vms lacks h"
ctl_ok vm-destroy vm=h
wait_for "$T/events" '"event":"VM_DESTROYED","data":{"vm":"h"'
ctl_err "No VM named 'h'" query-status vm=h

ctl_ok query-hypercall-stats vm=t
grep -q '"call":"unknown"' "$T/ctl.out" || fail "query-hypercall-stats: $(cat "$T/ctl.out")"
grep -q '"timestamp":{"seconds":[0-9]*,"microseconds":[0-9]*}' "$T/events" || fail "events lack timestamps"
serve_quit
wait "$events_pid"
exit 0
