#!/bin/sh
# Every thread of a running vmm is under a seccomp filter (Seccomp: 2 in
# /proc/PID/task/*/status): under vmm run (main, GLib's worker, two vCPUs,
# console input) and under vmm serve (main, GLib's worker, and the vCPUs of
# a VM started after the server's own filter). With --no-seccomp, none is
# (which also shows that the check can fail).
. "$(dirname "$0")/lib.sh"
need_kvm

field() { sed -n "s/^$1:[[:space:]]*//p" "$2"; }
ntasks() { set -- "/proc/$1/task/"*; echo $#; }

# check_threads PID WANT MIN: every thread of PID has Seccomp: WANT, and
# there are at least MIN of them
check_threads() {
    n=0
    for st in "/proc/$1/task/"*/status; do
        cp "$st" "$T/task" 2>/dev/null || continue
        v=$(field Seccomp "$T/task")
        [ "$v" = "$2" ] || { grep -E '^(Name|Pid|Seccomp)' "$T/task"; return 1; }
        n=$((n + 1))
    done
    [ "$n" -ge "$3" ] || { echo "only $n threads, expected $3 or more"; return 1; }
    echo "pid $1: $n threads, Seccomp: $2"
}

# run_spin WANT [ARGS...]: vmm run spin-2 with a FIFO as standard input (so
# the console input thread runs); once the guest spins on both vCPUs, every
# thread must show Seccomp: WANT
run_spin() {
    want=$1
    shift
    rm -f "$T/in"
    mkfifo "$T/in" || fail "mkfifo"
    exec 3<>"$T/in"
    cmdline="vmm run $* $CONFIGS/spin-2.toml <fifo"
    "$VMM" run "$@" "$CONFIGS/spin-2.toml" >"$T/stdout" 2>"$T/stderr" <"$T/in" &
    pid=$!
    i=0
    # main, gmain, stdin and two vCPUs
    until grep -q spinning "$T/stdout" && [ "$(ntasks "$pid")" -ge 5 ]; do
        if [ ! -d "/proc/$pid" ] || [ "$i" -ge 300 ]; then
            kill -KILL "$pid" 2>/dev/null
            wait "$pid"
            status=$?
            fail "vmm did not reach a running guest with 5 threads"
        fi
        sleep 0.1
        i=$((i + 1))
    done
    check_threads "$pid" "$want" 5 >"$T/check" 2>&1
    ok=$?
    cat "$T/check"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"
    status="killed by the test"
    exec 3>&-
    [ "$ok" = 0 ] || fail "vmm run $*: not every thread has Seccomp: $want"
}

run_spin 2
run_spin 0 --no-seccomp

# vmm serve: the VM is created and started after the server's filter, in
# vmm serve's own process (--workers off) or in a worker (the default)
# whose filter is on before its first thread but one starts
for mode in off on; do
    VMM_SERVE_WORKERS=$mode serve_start
    ctl_ok vm-create name=s config="$CONFIGS/spin-2.toml" start=true
    p=$serve_pid
    [ $mode = on ] && p=$(serve_workers)
    [ -n "$p" ] || fail "vmm serve: no worker"
    i=0
    until [ "$(ntasks "$p")" -ge 4 ]; do
        [ "$i" -lt "$(scaled 300)" ] || fail "vmm serve --workers $mode: no vCPU threads after $(scaled 30) s"
        sleep 0.1
        i=$((i + 1))
    done
    check_threads "$serve_pid" 2 2 || fail "vmm serve: not every thread has Seccomp: 2"
    [ $mode = on ] && { check_threads "$p" 2 4 || fail "vmm serve's worker: not every thread has Seccomp: 2"; }
    serve_quit
done
