#!/bin/sh
# Runs inside the nested test bed as if it were an integration test
# (bench/run-workers puts it there under a temporary tree): vmm serve with
# each VM in a worker process (--workers on) against every VM in vmm
# serve's own process (--workers off), the two modes alternated run by run
# in one boot. Writes BENCH lines to the console, where bench/run-workers
# collects them. Not an integration test: never in CI.
#   a. vm-create start=true (hello guest) to the guest's first console line
#   b. round trips per second from a client process over the Unix socket
#   c. the manager's memory with 16 idle VMs, and each worker's
#   d. the per-exit cost (the bench-calls guest) and what the manager does
#      meanwhile
. "$(dirname "$0")/lib.sh"
need_kvm
runs=${BENCH_RUNS:-5}
secs=${BENCH_SECONDS:-1}
# which figures (all by default), and where the lines go
# (comma- or space-separated: NESTED_ENV splits its words at spaces)
parts=$(echo "${BENCH_PARTS:-a b c d}" | tr , ' ')
# the modes of d (any of serve_args' below)
dmodes=$(echo "${BENCH_CALLS_MODES:-on off}" | tr , ' ')
sc=$TESTDIR/serve-client
fl=$TESTDIR/firstline
[ -x "$sc" ] || fail "no $sc"
[ -x "$fl" ] || fail "no $fl"
exec >"${BENCH_OUT:-/dev/console}" 2>&1
want() { case " $parts " in *" $1 "*) return 0 ;; esac; return 1; }

# On a failure, what the servers said and the kernel's log
on_fail() {
    for _f in "$T"/*.err; do
        [ -s "$_f" ] && { echo "--- $_f:"; tail -n 20 "$_f"; }
    done
    echo "--- dmesg (end):"
    dmesg | tail -n 30
}

# ---- vmm serve instances, one per mode, side by side -----------------------
# on: --workers on; off: --workers off; nosb: --workers on --sandbox off (the
# start-up cost of the worker's confinement, apart from the process's)
serve_args() {
    case "$1" in
        on) echo "--workers on" ;;
        off) echo "--workers off" ;;
        nosb) echo "--workers on --sandbox off" ;;
        onnoseccomp) echo "--workers on --no-seccomp" ;;
        offnoseccomp) echo "--workers off --no-seccomp" ;;
    esac
}

_answers() { "$VMM" ctl --qmp "$1" query-version >/dev/null 2>&1; }

# up NAME MODE: vmm serve MODE on $T/NAME.sock; its pid in $T/NAME.pid
up() {
    # shellcheck disable=SC2046 # the mode's options, word by word
    "$VMM" serve --qmp "unix:$T/$1.sock" $(serve_args "$2") >"$T/$1.out" 2>"$T/$1.err" </dev/null &
    echo $! >"$T/$1.pid"
    wait_until 30 "vmm serve $2 to answer on $T/$1.sock" _answers "$T/$1.sock"
}

_gone() { ! kill -0 "$1" 2>/dev/null; }

# down NAME: quit it and wait for it to end
down() {
    _p=$(cat "$T/$1.pid")
    "$VMM" ctl --qmp "$T/$1.sock" quit >/dev/null 2>&1 || fail "quit on $1: $(cat "$T/$1.err")"
    wait_until 60 "vmm serve $1 to end" _gone "$_p"
}

# ctlq NAME ARGS...: vmm ctl on NAME's socket, which must succeed (within
# 60 s, scaled)
ctlq() {
    _s=$1
    shift
    timeout "$(scaled 60)" "$VMM" ctl --qmp "$T/$_s.sock" "$@" >"$T/ctl.out" 2>"$T/ctl.err" </dev/null ||
        { on_fail; fail "vmm ctl $* on $_s (status $?): $(cat "$T/ctl.err")"; }
}

# order I WORD...: the WORDs, reversed on even runs (alternation)
order() {
    _i=$1
    shift
    if [ $((_i % 2)) = 1 ]; then echo "$*"; else echo "$*" | awk '{ for (i = NF; i > 0; i--) printf "%s ", $i }'; fi
}

# ---- memory and activity of processes ---------------------------------------
# mem PREFIX PID: "PREFIXvmrss=KiB PREFIXrss=KiB PREFIXpss=KiB PREFIXpriv=KiB
# PREFIXguest=KiB": VmRSS (status); Rss, Pss and Private_Clean +
# Private_Dirty (the pages only this process maps) from smaps_rollup; and
# of the Rss, the guest RAM's: the anonymous mappings vmm keeps out of core
# dumps (VmFlags "dd", src/core/memory.c), from smaps
mem() {
    { cat "/proc/$2/status" "/proc/$2/smaps_rollup"; echo ==; cat "/proc/$2/smaps"; } 2>/dev/null | awk -v p="$1" '
        $1 == "==" { maps = 1; next }
        !maps && /^VmRSS:/ { m = $2 } !maps && /^Rss:/ { r = $2 } !maps && /^Pss:/ { s = $2 }
        !maps && /^Private_(Clean|Dirty):/ { v += $2 }
        maps && /^[0-9a-f]+-[0-9a-f]+ / { anon = NF == 5; mr = 0 }
        maps && /^Rss:/ { mr = $2 }
        maps && /^VmFlags:/ && anon && / dd( |$)/ { g += mr }
        END { printf "%svmrss=%d %srss=%d %spss=%d %spriv=%d %sguest=%d", p, m, p, r, p, s, p, v, p, g }'
}

# activity PID...: "cs=N run_us=N": context switches and CPU time of every
# thread of those processes (threads that ended are not counted)
activity() {
    for _p in "$@"; do cat /proc/"$_p"/task/*/status /proc/"$_p"/task/*/schedstat 2>/dev/null; done |
        awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { cs += $2; next }
            /^[0-9]+ [0-9]+ [0-9]+$/ { ns += $1 }
            END { printf "cs=%d run_us=%d", cs, ns / 1000 }'
}

# manager NAME: vmm serve's pid and its launcher's (its children: with
# workers, the launcher; the workers are the launcher's children)
manager_pids() {
    _p=$(cat "$T/$1.pid")
    # shellcheck disable=SC2046 # the pids, one a word
    echo "$_p" $(children_of "$_p")
}

# ---- a. vm-create start=true to the guest's first line ----------------------
hello_cfg() { echo "{\"vm\":{\"memory\":\"64M\",\"vcpus\":2},\"boot\":{\"firmware\":\"hello\"},\"console\":{\"file\":\"$1\"}}"; }
part_a() {
    for s in on off nosb; do up "$s" "$s"; done
    i=1
    while [ "$i" -le "$runs" ]; do
        for s in $(order "$i" on off nosb run); do
            if [ "$s" = run ]; then
                # the same guest under vmm run, one process from fork to exit
                "$fl" start-run 1 "$VMM" run "$VMM_SRCDIR/configs/hello.toml" </dev/null
                continue
            fi
            rm -f "$T/fifo"
            mkfifo "$T/fifo" || fail "mkfifo"
            "$sc" "$T/$s.sock" firstline "start-$s" "h$i" "$(hello_cfg "$T/fifo")" "$T/fifo" ||
                { on_fail; fail "firstline on $s"; }
        done
        i=$((i + 1))
    done
    for s in on off nosb; do down "$s"; done
}

# ---- b. round trips per second --------------------------------------------
idle_cfg='{"vm":{"memory":"16M"},"boot":{"firmware":"idle"}}'
part_b() {
    for s in on off; do
        up "$s" "$s"
        ctlq "$s" vm-create name=q start=true "config=$idle_cfg"
    done
    i=1
    while [ "$i" -le "$runs" ]; do
        for s in $(order "$i" on off); do
            "$sc" "$T/$s.sock" rate "rate-status-$s" "$secs" \
                '{"execute":"query-status","arguments":{"vm":"q"}}' || fail "query-status on $s"
            "$sc" "$T/$s.sock" rate "rate-version-$s" "$secs" \
                '{"execute":"query-version"}' || fail "query-version on $s"
            "$sc" "$T/$s.sock" rate "rate-stats-$s" "$secs" \
                '{"execute":"query-hypercall-stats","arguments":{"vm":"q"}}' || fail "query-hypercall-stats on $s"
        done
        i=$((i + 1))
    done
    for s in on off; do down "$s"; done
}

# ---- c. memory with 16 idle VMs ----------------------------------------------
# A fresh vmm serve per run and mode; its memory before any VM and with 16
# idle VMs (16 MiB each, halted); the launcher's; each worker's.
part_c() {
    i=1
    while [ "$i" -le "$runs" ]; do
        for s in $(order "$i" on off); do
            up "m$s" "$s"
            p=$(cat "$T/m$s.pid")
            m0=$(mem m0_ "$p")
            v=1
            while [ "$v" -le 16 ]; do
                ctlq "m$s" vm-create name=i$v start=true "config=$idle_cfg"
                v=$((v + 1))
            done
            ctlq "m$s" query-vms
            [ "$(grep -Eo '"status" *: *"running"' "$T/ctl.out" | wc -l)" = 16 ] ||
                fail "16 idle VMs are not all running on $s: $(cat "$T/ctl.out")"
            m16=$(mem m_ "$p")
            # shellcheck disable=SC2046 # the pids, one a word
            set -- $(children_of "$p")
            lm="l_vmrss=0 l_rss=0 l_pss=0 l_priv=0"
            [ $# = 1 ] && lm=$(mem l_ "$1")
            echo "BENCH mem-$s $m0 $m16 launchers=$# $lm"
            if [ $# = 1 ]; then
                for w in $(children_of "$1"); do
                    echo "BENCH worker-$s $(mem w_ "$w")"
                done
            fi
            down "m$s"
        done
        i=$((i + 1))
    done
}

# ---- d. per-exit cost: the bench-calls guest under each mode ---------------
# While the guest runs (from vm-create's reply to its line), the manager's
# threads (vmm serve and, with workers, the launcher) are counted: with
# workers no vCPU thread is among them, and a vCPU thread that asked the
# manager anything on its exits would show there as one context switch a
# call at least (the guest makes 30 000 userspace exits). Without workers
# the vCPU threads are vmm serve's own, and counted.
calls_cfg() { echo "{\"vm\":{\"memory\":\"64M\"},\"boot\":{\"firmware\":\"bench-calls\"},\"policy\":{\"flags\":[\"info\"]},\"console\":{\"file\":\"$1\"}}"; }
uptime_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
part_d() {
    for s in $dmodes; do up "$s" "$s"; done
    i=1
    while [ "$i" -le "$runs" ]; do
        # shellcheck disable=SC2086 # the modes, one a word
        for s in $(order "$i" $dmodes); do
            con=$T/calls-$s-$i.console
            # shellcheck disable=SC2046 # pids
            a0=$(activity $(manager_pids "$s"))
            ctlq "$s" vm-create name=c$i start=true "config=$(calls_cfg "$con")"
            # shellcheck disable=SC2046
            a1=$(activity $(manager_pids "$s"))
            t1=$(uptime_ms)
            # the guest prints one line: its figures, or why it stopped
            wait_for_line "$con" '.' 120
            # shellcheck disable=SC2046
            a2=$(activity $(manager_pids "$s"))
            t2=$(uptime_ms)
            line=$(grep '^bench-calls:' "$con") || { on_fail; fail "no figures from bench-calls on $s: $(cat "$con")"; }
            ctlq "$s" vm-destroy vm=c$i
            echo "$a0 $a1 $a2 $line" | awk -v s="$s" -v ms=$((t2 - t1)) '{
                split($1, c0, "="); split($2, r0, "="); split($3, c1, "="); split($4, r1, "=")
                split($5, c2, "="); split($6, r2, "=")
                for (i = 7; i <= NF; i++) {
                    if ($i == "(userspace)") call = $(i+1)
                    if ($i == "exit" && $(i-1) == "userspace") bare = $(i+1)
                    if ($i == "kernel" && $(i-1) == "in") kernel = $(i+1)
                }
                printf "BENCH calls-%s call=%s bare=%s kernel=%s run_ms=%d create_cs=%d create_run_us=%d mgr_cs=%d mgr_run_us=%d\n",
                    s, call, bare, kernel, ms, c1[2] - c0[2], r1[2] - r0[2], c2[2] - c1[2], r2[2] - r1[2]
            }'
        done
        i=$((i + 1))
    done
    for s in $dmodes; do down "$s"; done
}

echo "BENCH-INFO arch=$ARCH kernel=$(uname -r) cpus=$(nproc) runs=$runs seconds=$secs parts=$(echo "$parts" | tr ' ' ,)"
for part in a b c d; do
    want "$part" && "part_$part"
done
echo "BENCH-DONE"
