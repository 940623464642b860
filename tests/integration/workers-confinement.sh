#!/bin/sh
# nested-timeout: 180
# vmm serve's workers are confined once their VM is built, as seen from
# outside (/proc of the worker) and from inside (the hidden test hook
# VMM_TEST_WORKER_HOOK=a:probe makes a's worker try what a guest that took
# it over would: open host files, see other processes). Then a worker that
# makes a forbidden system call (c:violate), and one that writes garbage to
# its channel (b:garbage), cost only their own VM: vmm serve answers on and
# a ticks on.
. "$(dirname "$0")/lib.sh"
need_kvm
step() { echo "step: $*"; }
ticker() { # ticker NAME: a running VM ticking into $T/NAME.console
    ctl_ok vm-create name=$1 start=true "config={\"vm\":{\"memory\":\"32M\"},\"boot\":{\"firmware\":\"ticker\"},\"console\":{\"file\":\"$T/$1.console\"}}"
    wait_for "$T/$1.console" "tick 2"
}
field() { # field PID NAME: the value of NAME: in /proc/PID/status
    sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"
}

export VMM_TEST_WORKER_HOOK=a:probe,b:garbage,c:violate
serve_start
ticker a
w=$(worker_of a)
[ -n "$w" ] || fail "no worker has a's console open"
step "worker $w"

# --- from outside ---
[ "$(field "$w" NoNewPrivs)" = 1 ] || fail "worker: no_new_privs is off"
[ "$(field "$w" Seccomp)" = 2 ] || fail "worker: no seccomp filter"
for set in CapInh CapPrm CapEff CapBnd CapAmb; do
    [ "$(field "$w" $set)" = 0000000000000000 ] || fail "worker: $set is $(field "$w" $set)"
done
if [ "$(id -u)" = 0 ]; then
    nobody=$(id -u nobody 2>/dev/null || echo 65534)
    set -- $(field "$w" Uid)
    [ "$1 $2 $3 $4" = "$nobody $nobody $nobody $nobody" ] || fail "worker runs as uid $*, not nobody ($nobody)"
    set -- $(field "$w" Groups)
    [ $# = 0 ] || fail "worker keeps supplementary groups $*"
fi
# every thread, not only the main one
for t in /proc/$w/task/*; do
    tid=${t##*/}
    [ "$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status")" = 0000000000000000 ] ||
        fail "worker thread $tid ($(cat "$t/comm")) keeps capabilities"
    [ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] ||
        fail "worker thread $tid ($(cat "$t/comm")) has no seccomp filter"
    if [ "$(id -u)" = 0 ]; then
        set -- $(sed -n 's/^Uid:[[:space:]]*//p' "$t/status")
        [ "$1" = "$nobody" ] || fail "worker thread $tid ($(cat "$t/comm")) runs as uid $1"
    fi
done
for ns in pid mnt net ipc uts; do
    [ "$(readlink "/proc/$w/ns/$ns")" != "$(readlink "/proc/$serve_pid/ns/$ns")" ] ||
        fail "worker shares vmm serve's $ns namespace"
done
[ -z "$(ls -A "/proc/$w/root/")" ] || fail "worker's root is not empty: $(ls -A "/proc/$w/root/")"
grep -q "^Max open files *[0-9]* *[0-9]* *files" "/proc/$w/limits" ||
    fail "worker: no open files limit: $(grep files "/proc/$w/limits")"
grep -q "^Max address space *[0-9]* *[0-9]* *bytes" "/proc/$w/limits" ||
    fail "worker: no address space limit: $(grep 'address space' "/proc/$w/limits")"
# its own cgroup, where vmm serve may make one: the bed runs it as root in
# the root cgroup (tests/nested/init mounts cgroup2)
cgroups=no
if [ -f /sys/fs/cgroup/cgroup.controllers ] && [ "$(id -u)" = 0 ] &&
   [ "$(cat "/proc/$serve_pid/cgroup")" = "0::/" ]; then
    cgroups=yes
    cg=$(sed -n 's/^0:://p' "/proc/$w/cgroup")
    [ "$cg" = "/vmm-serve-$serve_pid/worker-$w" ] || fail "worker's cgroup is $cg"
    # 32 MiB of RAM, 1 vCPU: RAM + 256 MiB + 16 MiB per vCPU; 32 + 2 tasks per vCPU
    [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = $(((32 + 256 + 16) << 20)) ] ||
        fail "worker's memory.max is $(cat "/sys/fs/cgroup$cg/memory.max")"
    [ "$(cat "/sys/fs/cgroup$cg/pids.max")" = 34 ] ||
        fail "worker's pids.max is $(cat "/sys/fs/cgroup$cg/pids.max")"
    grep -qw cpu "/sys/fs/cgroup/vmm-serve-$serve_pid/cgroup.subtree_control" ||
        fail "no cpu controller for the workers: $(cat "/sys/fs/cgroup/vmm-serve-$serve_pid/cgroup.subtree_control")"
    step "cgroup $cg"
else
    step "no cgroup check: not root in the root cgroup of a cgroup2 host"
fi

# --- from inside ---
wait_for "$T/serve.err" "worker probe (VM 'a')"
probe=$(grep "worker probe (VM 'a')" "$T/serve.err")
step "$probe"
echo "$probe" | grep -q ": pid 1," || fail "the worker is not PID 1 of its own namespace: $probe"
echo "$probe" | grep -q "open /etc/passwd: No such file or directory" ||
    fail "the worker could open a host file: $probe"
echo "$probe" | grep -q "kill -1: No such process" || fail "the worker sees other processes: $probe"
# the pids limit: a worker cannot add threads without bound
if [ $cgroups = yes ]; then
    n=$(echo "$probe" | sed -n 's/.*threads: \([0-9]*\) of 200.*/\1/p')
    [ -n "$n" ] && [ "$n" -lt 34 ] || fail "the worker started ${n:-?} threads under pids.max 34: $probe"
fi
if grep -q "worker for VM 'a': no Landlock" "$T/serve.err"; then
    step "no Landlock here: $(grep "no Landlock" "$T/serve.err")"
else
    echo "$probe" | grep -q "open /: Permission denied" ||
        fail "Landlock let the worker open its own root: $probe"
fi
# --- a worker that sends garbage, one that breaks its filter ---
ctl_err "VM 'b'" vm-create name=b start=true "config={\"vm\":{\"memory\":\"32M\"},\"boot\":{\"firmware\":\"ticker\"}}"
grep -qF "was ended" "$T/ctl.err" || fail "vm-create b does not say its worker was ended: $(cat "$T/ctl.err")"
step "b: $(cat "$T/ctl.err")"
ctl_err "VM 'c'" vm-create name=c start=true "config={\"vm\":{\"memory\":\"32M\"},\"boot\":{\"firmware\":\"ticker\"}}"
grep -qF "status 127" "$T/ctl.err" || fail "vm-create c does not say its worker exited 127: $(cat "$T/ctl.err")"
grep -q "thread worker made forbidden system call socket" "$T/serve.err" ||
    fail "no seccomp line from c's worker: $(cat "$T/serve.err")"
step "c: $(cat "$T/ctl.err")"
n=$(grep -c '^tick' "$T/a.console")
wait_for "$T/a.console" "tick $((n + 2))"
[ "$(status_of a)" = running ] || fail "a stopped after the workers of b and c went"
ctl_ok query-vms
grep -q '"b"\|"c"' "$T/ctl.out" && fail "b or c is listed: $(cat "$T/ctl.out")"
serve_quit
# the launcher removes the groups once its workers have gone
[ $cgroups = no ] ||
    wait_until 20 "vmm serve's cgroup to go" test ! -e "/sys/fs/cgroup/vmm-serve-$serve_pid"
exit 0
