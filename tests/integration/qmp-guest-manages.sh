#!/bin/sh
# A service guest manages restricted ones through vmm serve: the manage
# firmware creates a VM from registered image 0, starts it, sees its exit
# status, destroys it, and is refused the host's VM (itself) and a VM that
# does not exist; the same firmware as a restricted guest is refused the
# management call, which comes out as HYPERCALL_DENIED
. "$(dirname "$0")/lib.sh"
need_kvm
cat >"$T/svc.toml" <<EOT
[vm]
name = "svc"
memory = "64M"
[boot]
firmware = "manage"
[console]
file = "svc.console"
[policy]
role = "service"
flags = ["info"]
EOT
cat >"$T/rvm.toml" <<EOT
[vm]
name = "rvm"
memory = "64M"
[boot]
firmware = "manage"
[console]
file = "rvm.console"
[policy]
flags = ["info"]
EOT
cat >"$T/serve.toml" <<EOT
[quota]
vms = 2
memory = "128M"
vcpus = 2

[[image]]
name = "exit3"
config = "$CONFIGS/exit3.toml"
EOT
serve_start --config "$T/serve.toml"
events_start
ctl_ok vm-create name=svc "config=$T/svc.toml"
ctl_ok vm-start vm=svc
wait_for "$T/svc.console" "manage: done" 60
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"exit3-2"'
grep '"vm":"exit3-2"' "$T/events" | grep '"SHUTDOWN"' | grep -q '"status":3' ||
    fail "the child's SHUTDOWN lacks status 3: $(cat "$T/events")"
wait_for "$T/events" '"event":"VM_DESTROYED","data":{"vm":"exit3-2"'
grep -q "manage: create: ok 2" "$T/svc.console" || fail "create: $(cat "$T/svc.console")"
grep -q "manage: child state 3 exit status 3" "$T/svc.console" || fail "child status: $(cat "$T/svc.console")"
grep -q "manage: query-self: refused" "$T/svc.console" || fail "query-self was allowed"
grep -q "manage: stop-self: refused" "$T/svc.console" || fail "stop-self was allowed"
grep -q "manage: query-none: refused" "$T/svc.console" || fail "query-none was allowed"
grep -q "manage: create-bad-image: refused" "$T/svc.console" || fail "a bad image was accepted"
[ "$(status_of svc)" != prelaunch ] || fail "svc never ran"

ctl_ok vm-create name=rvm "config=$T/rvm.toml" start=true
wait_for "$T/events" '"event":"HYPERCALL_DENIED","data":{"vm":"rvm"'
grep '"HYPERCALL_DENIED"' "$T/events" | grep -q '"reason":"service-only"' ||
    fail "HYPERCALL_DENIED reason: $(cat "$T/events")"
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"rvm"'
ctl_ok query-vms
grep -q '"exit3-2"' "$T/ctl.out" && fail "the destroyed child is still listed"
serve_quit
exit 0
