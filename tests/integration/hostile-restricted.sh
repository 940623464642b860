#!/bin/sh
# The hostile firmware as a restricted VM under `vmm run --qmp`: both vCPUs
# make thousands of random calls, ucalls, doorbell rings, MMIO and port
# accesses (firmware/hostile.c). vmm must stay up and end with the guest's
# own status (42), keep its log rate-limited, count the refusals
# (query-hypercall-stats: unknown IDs, service-only VM calls, a disabled
# service, bad doorbells), and answer the control socket throughout.
# The image is hostile-wait: after its rounds the guest waits for a line on
# its console (vmm's standard input, a named pipe), which this script sends
# once it has had an answer while the guest ran and the counts from after
# the rounds. How fast the guest is then decides nothing (it once finished
# in 2 s, before the first query could connect).
# HOSTILE_POLICY=none (hostile-nocalls.sh) runs it with no calls allowed at
# all instead: every call is refused as no-calls (x86_64: #UD at vmcall).
. "$(dirname "$0")/lib.sh"
policy=${HOSTILE_POLICY:-restricted}
config=$CONFIGS/hostile-$policy.toml
need_kvm

# now_cs: centiseconds since boot; timed CMD...: run CMD, keep the longest
# time one took in $slowest (centiseconds)
now_cs() { read -r _up _rest </proc/uptime; echo $((${_up%.*} * 100 + 1${_up#*.} - 100)); }
slowest=0
timed() {
    _t0=$(now_cs)
    "$@"
    _dt=$(($(now_cs) - _t0))
    [ "$_dt" -le "$slowest" ] || slowest=$_dt
}

SOCK=$T/qmp.sock
limit=$(scaled 60)
cmdline="vmm run --qmp unix:$SOCK --timeout $limit $config <fifo"
start=$(date +%s)
mkfifo "$T/in"
"$VMM" run --qmp "unix:$SOCK" --timeout "$limit" "$config" \
    >"$T/stdout" 2>"$T/stderr" <"$T/in" &
pid=$!
trap 'kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
exec 3>"$T/in"
QMP_SOCK=$SOCK

# rounds_over: every vCPU has ended its rounds (vCPU 0 waits for its line
# only after all have); busybox grep stops at a NUL, which the storm may
# have written
rounds_over() { tr -d '\000' <"$T/stdout" | grep -q 'hostile: waiting for a line'; }

# Query until vmm ends. Once one has been answered, a query may fail only
# because vmm is on its way out: then it must be gone within 10 s.
answered=0 running=0 over=0 released=0
while kill -0 "$pid" 2>/dev/null; do
    timed ctl query-status
    if [ "$ctl_status" = 0 ]; then
        grep -q '"running": *true' "$T/ctl.out" && running=$((running + 1))
        # looked at before the counts are asked for: they are then final
        [ "$over" = 1 ] || ! rounds_over || over=1
        timed ctl query-hypercall-stats
    fi
    if [ "$ctl_status" = 0 ]; then
        cp "$T/ctl.out" "$T/stats"
        answered=$((answered + 1))
        if [ "$over" = 1 ] && [ "$running" -ge 1 ] && [ "$released" = 0 ]; then
            printf '\n' >&3     # the guest may end
            released=1
        fi
        continue
    fi
    if [ "$answered" = 0 ]; then     # not up yet
        echo "before the first answer: vmm ctl $ctl_status: $(cat "$T/ctl.err")" >"$T/early"
        sleep 0.1
        continue
    fi
    _i=0
    while kill -0 "$pid" 2>/dev/null; do
        [ "$_i" -lt "$(scaled 100)" ] || fail "the control socket did not answer (vmm ctl: $ctl_status, $(cat "$T/ctl.err")) and vmm still runs"
        sleep 0.1
        _i=$((_i + 1))
    done
done
wait "$pid"
status=$?
exec 3>&-
elapsed=$(($(date +%s) - start))
[ -e "$T/early" ] && cat "$T/early"
tr -d '\000' <"$T/stdout" >"$T/stdout.txt" && mv "$T/stdout.txt" "$T/stdout"   # busybox grep stops at a NUL
echo "guest run: ${elapsed} s, $answered pairs of queries answered ($running while running), the slowest in $slowest cs"

expect_status 42
for cpu in 0 1; do
    expect_stdout_has "hostile: vCPU $cpu seed "
    expect_stdout_has "hostile: vCPU $cpu done: "
done
! grep -q 'guest crashed' "$T/stderr" || fail "vmm reported a crash"
[ "$running" -ge 1 ] || fail "no query answered while the guest ran"
[ "$released" = 1 ] || fail "no counts from after the rounds (the guest did not wait for its line)"
expect_stdout_has "hostile: got the line, the VM ends"
# The refusal log is rate-limited (10 lines a second per VM, and a summary)
lines=$(grep -c '' "$T/stderr")
[ "$lines" -le $((12 * (elapsed + 2))) ] || fail "$lines lines on stderr in $elapsed s"

[ -s "$T/stats" ] || fail "no hypercall stats"
row() { grep -o "{\"call\":\"$1\"[^}]*}[^}]*}" "$T/stats"; }
row ucall-doorbell | grep -q '"rejected":[1-9]' || fail "no refused doorbell counted: $(row ucall-doorbell)"
if [ "$policy" = none ]; then
    for call in unknown version vm-create ucall-print; do
        row $call | grep -q '"no-calls":[1-9]' || fail "no no-calls refusal of $call counted: $(row $call)"
    done
    grep -q '"allowed":[1-9]' "$T/stats" && fail "a call was allowed: $(cat "$T/stats")"
    exit 0
fi
row unknown | grep -q '"unknown":[1-9]' || fail "no unknown call counted: $(row unknown)"
row vm-create | grep -q '"service-only":[1-9]' || fail "no service-only vm-create counted: $(row vm-create)"
row console-write | grep -q '"service-disabled":[1-9]' ||
    fail "no console-write refused for its disabled service: $(row console-write)"
exit 0
