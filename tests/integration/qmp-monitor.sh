#!/bin/sh
# An external monitor answers a guest's vendor call: vmm ctl --monitor
# claims VMM_CALL_VERSION of a "calls" guest (policy: info) before it runs,
# answers the first call with 0x4242 and leaves; the guest sees 0x4242,
# then the refusal for the same call once the monitor has gone, and runs
# to its normal end. Only the monitor gets GUEST_CALL events; calls the
# policy refuses never reach it; claims are refused once the VM has run
. "$(dirname "$0")/lib.sh"
need_kvm
serve_start
version=$((0xc6001000))
ctl_ok vm-create name=mon "config=$CONFIGS/calls-info.toml"
"$VMM" ctl --qmp "$QMP_SOCK" --monitor mon "$version" "$version" --answer 0x4242 --count 1 \
    >"$T/monitor" 2>"$T/monitor.err" </dev/null &
mpid=$!
wait_for "$T/monitor" claimed
ctl_err "claimed already" monitor-calls vm=mon first=$((version - 1)) last=$version
events_start
ctl_ok vm-start vm=mon
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"mon"' 60
wait "$mpid"
grep '"SHUTDOWN"' "$T/events" | grep -q '"status":0' || fail "the guest did not end normally: $(cat "$T/events")"
grep -q "\"event\":\"GUEST_CALL\".*\"call\":$version" "$T/monitor" || fail "monitor: $(cat "$T/monitor")"
grep -q GUEST_CALL "$T/events" && fail "another client got a GUEST_CALL event"
out=$T/serve.out
grep -q "calls: version: ok 0x4242" "$out" || fail "the monitor's answer did not reach the guest: $(cat "$out")"
grep -q "calls: ucall-version: refused" "$out" || fail "no refusal after the monitor left: $(cat "$out")"
if [ "$ARCH" = x86_64 ]; then
    # refused by the policy (ring 3) before any monitor could see it
    grep -q "calls: version-ring3: #GP(0) at the call" "$out" || fail "version-ring3: $(cat "$out")"
else
    grep -q "calls: version-smc: refused -1" "$out" || fail "version-smc: $(cat "$out")"
fi
ctl_err "only before it first runs" monitor-calls vm=mon first=1 last=2
serve_quit
exit 0
