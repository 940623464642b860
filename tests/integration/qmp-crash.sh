#!/bin/sh
# One VM crashing leaves the other running and the socket answering: a
# triple-fault (x86) / undefined-instruction (aarch64) guest beside a
# spinning one; GUEST_CRASHED with a register summary, the exit in query-vm
. "$(dirname "$0")/lib.sh"
need_kvm
serve_start
events_start
ctl_ok vm-create name=spin "config=$CONFIGS/spin.toml" start=true
case "$ARCH" in
x86_64) bad=triple-fault ;;
aarch64) bad=undef ;;
esac
ctl_ok vm-create name=bad "config=$CONFIGS/$bad.toml" start=true
wait_for "$T/events" '"event":"GUEST_CRASHED","data":{"vm":"bad"'
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"bad"'
case "$ARCH" in
x86_64) pc=rip ;;
aarch64) pc=pc ;;
esac
grep '"GUEST_CRASHED"' "$T/events" | grep -qi "$pc" || fail "GUEST_CRASHED lacks the registers"
ctl_ok query-vm vm=bad
grep -q '"reason":"guest-crash","status":120' "$T/ctl.out" || fail "query-vm bad: $(cat "$T/ctl.out")"
[ "$(status_of spin)" = running ] || fail "spin is not running after the crash of bad"
ctl_ok stop vm=spin
[ "$(status_of spin)" = paused ] || fail "spin did not pause"
ctl_ok cont vm=spin
ctl_ok vm-destroy vm=bad
[ "$(status_of spin)" = running ] || fail "spin is not running"
serve_quit
exit 0
