#!/bin/sh
# Once the guest runs, vmm and every one of its threads (main, vCPUs, any
# helper) hold no capability at all and have no_new_privs set, so a device
# model that is taken over cannot regain privileges. Read from
# /proc/PID/task/*/status of a vmm whose two vCPUs spin.
. "$(dirname "$0")/lib.sh"
need_kvm
cmdline="vmm run $CONFIGS/spin-2.toml (then /proc/PID/task/*/status)"

# hex_zero VALUE: is a Cap* field all zeros?
hex_zero() { case "$1" in *[!0]*) return 1 ;; *) return 0 ;; esac; }
field() { sed -n "s/^$1:[[:space:]]*//p" "$2"; }

# As root, the test itself starts with capabilities: proves the check can fail.
root=no
if [ "$(id -u)" = 0 ]; then
    root=yes
    hex_zero "$(field CapEff /proc/self/status)" && fail "root without capabilities: cannot tell"
fi

"$VMM" run "$CONFIGS/spin-2.toml" >"$T/stdout" 2>"$T/stderr" </dev/null &
pid=$!
( sleep "$(scaled 60)"; kill -KILL "$pid" 2>/dev/null ) &
wd=$!
stop() { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; kill "$wd" 2>/dev/null; }

# Set-up is over once the guest prints (vCPU 0) and both vCPU threads exist.
ntasks() { set -- "/proc/$pid/task/"*; echo $#; }
end=$(($(now) + $(scaled 20)))
until grep -q spinning "$T/stdout" && [ "$(ntasks)" -ge 3 ]; do
    if [ ! -d "/proc/$pid" ] || [ "$(now)" -ge "$end" ]; then
        stop
        status=gone
        fail "vmm did not reach a running guest with 2 vCPU threads (waited $(scaled 20) s)"
    fi
    sleep 0.1
done

# bad MESSAGE: fail, showing the thread's privilege fields
bad() {
    grep -E '^(Name|Pid|Cap|NoNewPrivs)' "$T/task"
    stop
    status="killed by the test"
    fail "$1"
}
checked=0
for st in "/proc/$pid/task/"*/status; do
    cp "$st" "$T/task" 2>/dev/null || continue
    name=$(field Name "$T/task")
    for f in CapInh CapPrm CapEff CapAmb; do
        v=$(field "$f" "$T/task")
        hex_zero "$v" || bad "thread '$name': $f is $v"
    done
    # Only a process with CAP_SETPCAP can empty its bounding set.
    if [ "$root" = yes ]; then
        v=$(field CapBnd "$T/task")
        hex_zero "$v" || bad "thread '$name': CapBnd is $v"
    fi
    v=$(field NoNewPrivs "$T/task")
    [ "$v" = 1 ] || bad "thread '$name': NoNewPrivs is '$v'"
    checked=$((checked + 1))
done
stop
status="killed by the test"
[ "$checked" -ge 3 ] || fail "only $checked threads checked, expected vmm and 2 vCPUs"
echo "checked $checked threads of vmm (root: $root)"
