#!/bin/sh
# stop/cont interleaved with vCPUs blocked outside KVM_RUN: vCPU 0 waits in
# an external monitor's answer to each of its calls, vCPU 1 in a service
# guest's VM call to the manager's main loop. After many stop/cont pairs
# both must still make progress: a vCPU kicked while blocked used to keep
# immediate_exit set after cont and never run guest code again (KVM_RUN
# failing at once, for ever, on a spinning host core).
. "$(dirname "$0")/lib.sh"
need_kvm
ROUNDS=${PAUSE_STRESS_ROUNDS:-8}
version=$((0xc6001000))
serve_start
ctl_ok vm-create name=ps "config=$CONFIGS/pause-stress.toml"
# a slow monitor: each call waits 3 s for its answer, so that a stop and a
# cont sent as soon as a call has reached it both come while vCPU 0 waits
"$VMM" ctl --qmp "$QMP_SOCK" --monitor ps "$version" "$version" --answer 7 --count 100000000 \
    --delay 3000 --timeout-ms 600000 \
    >"$T/monitor" 2>"$T/monitor.err" </dev/null &
mpid=$!
wait_for "$T/monitor" claimed
ctl_ok vm-start vm=ps
wait_for "$T/serve.out" "pause-stress: cpu0 4" 60
wait_for "$T/serve.out" "pause-stress: cpu1 64" 60

# last COUNT of vCPU N printed so far
last() { grep -o "pause-stress: cpu$1 [0-9]*" "$T/serve.out" | tail -n 1 | sed 's/.* //'; }

# calls: how many calls have reached the monitor so far
calls() { _c=$(grep -c GUEST_CALL "$T/monitor" 2>/dev/null); echo "${_c:-0}"; }

i=0
while [ "$i" -lt "$ROUNDS" ]; do
    # right after a call reached the monitor, vCPU 0 is blocked in it
    k=$(calls)
    wait_until 60 "round $i: a call of vCPU 0 at the monitor (stuck after a cont?)" \
        sh -c "[ \$(grep -c GUEST_CALL '$T/monitor') -gt $k ]"
    ctl_ok stop vm=ps
    [ "$(status_of ps)" = paused ] || fail "round $i: not paused after stop"
    ctl_ok cont vm=ps
    i=$((i + 1))
done
[ "$(status_of ps)" = running ] || fail "not running after the last cont"

# progress after the last cont: each vCPU prints a count above the one it
# had printed by then
n=$(last 0)
wait_for "$T/serve.out" "pause-stress: cpu0 $((n + 4))" 60
n=$(last 1)
wait_for "$T/serve.out" "pause-stress: cpu1 $((n + 64))" 60
kill "$mpid" 2>/dev/null
ctl_ok vm-destroy vm=ps
grep -q "the vCPUs did not pause" "$T/serve.err" && fail "a stop timed out: $(cat "$T/serve.err")"
serve_quit
exit 0
