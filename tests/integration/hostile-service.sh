#!/bin/sh
# The hostile firmware as a service VM under `vmm serve --config`: its
# random VM management calls create, start, stop and destroy VMs from the
# two registered images within the quota, among thousands of other random
# calls and accesses (firmware/hostile.c). vmm serve must stay up and
# answer throughout, never hold more VMs than the quota allows, end the
# service VM with its own status (42), count the refusals, and quit
# cleanly afterwards.
. "$(dirname "$0")/lib.sh"
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

cat >"$T/serve.toml" <<EOT
[quota]
vms = 3
memory = "96M"
vcpus = 3

[[image]]
name = "exit3"
config = "$CONFIGS/exit3.toml"

[[image]]
name = "idle"
config = "$CONFIGS/idle.toml"

[[vm]]
name = "svc"
config = "$CONFIGS/hostile-service.toml"
EOT
serve_start --config "$T/serve.toml"
events_start
start=$(date +%s)
limit=$(scaled 50)   # the bed's measured slowness, as every wait here
ctl_ok vm-start vm=svc

# Every query is answered while the guest runs; at most the quota's VMs
# besides svc exist at any time.
answered=0 most=0
while :; do
    [ $(($(date +%s) - start)) -lt "$limit" ] || fail "svc still running after $limit s"
    timed ctl_ok query-status vm=svc
    grep -q '"status": *"shutdown"' "$T/ctl.out" && break
    timed ctl_ok query-hypercall-stats vm=svc
    timed ctl_ok query-vms
    n=$(grep -o '"name": *"' "$T/ctl.out" | grep -c '')
    [ "$n" -le 4 ] || fail "$n VMs at once, the quota allows 3 besides svc: $(cat "$T/ctl.out")"
    [ "$n" -gt "$most" ] && most=$n
    answered=$((answered + 1))
done
elapsed=$(($(date +%s) - start))
echo "guest run: ${elapsed} s, $answered rounds of queries answered (the slowest in $slowest cs), at most $most VMs at once"
[ "$answered" -ge 1 ] || fail "no round of queries answered while the guest ran"

wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"svc"'
grep '"SHUTDOWN","data":{"vm":"svc"' "$T/events" | grep -q '"status":42' ||
    fail "svc did not end with its own status 42: $(grep '"vm":"svc"' "$T/events")"
grep -q '"event":"GUEST_CRASHED","data":{"vm":"svc"' "$T/events" && fail "svc crashed"
tr -d '\000' <"$T/serve.out" >"$T/serve.txt"   # busybox grep stops at a NUL
for cpu in 0 1; do
    grep -q "hostile: vCPU $cpu done: " "$T/serve.txt" || fail "no end line from vCPU $cpu: $(tail -n 20 "$T/serve.txt")"
done

ctl_ok query-hypercall-stats vm=svc
cp "$T/ctl.out" "$T/stats"
row() { grep -o "{\"call\":\"$1\"[^}]*}[^}]*}" "$T/stats"; }
row unknown | grep -q '"unknown":[1-9]' || fail "no unknown call counted: $(row unknown)"
row vm-create | grep -q '"allowed":[1-9]' || fail "no VM_CREATE reached the manager: $(row vm-create)"
row ucall-doorbell | grep -q '"rejected":[1-9]' || fail "no refused doorbell counted: $(row ucall-doorbell)"
grep -q '"event":"VM_STARTED","data":{"vm":"\(exit3\|idle\)-' "$T/events" ||
    echo "note: no child VM was started this run"

lines=$(grep -c '' "$T/serve.err")
[ "$lines" -le $((12 * (elapsed + 2) + 20)) ] || fail "$lines lines on vmm serve's stderr in $elapsed s"
ctl_ok query-version
serve_quit
exit 0
