#!/bin/sh
# nested-timeout: 900
# Runs inside the nested test bed (bench/run-seccomp puts it there as an
# integration test): the bench-calls guest with vmm's seccomp filters on and
# off (--no-seccomp), alternately, in one boot, runs times each. Writes one
# "BENCH-SECCOMP on|off USER KERNEL" line per run to the console (ticks per
# call: a call vmm answers in userspace, so one exit through the vCPU
# thread's filter, and one KVM answers in the kernel, a control).
. "$(dirname "$0")/lib.sh"
need_kvm
runs=${BENCH_RUNS:-5}
cfg=$VMM_SRCDIR/configs/bench-calls.toml
{
    echo "BENCH-INFO arch=$ARCH kernel=$(uname -r) cpus=$(nproc) runs=$runs"
    i=0
    while [ "$i" -lt "$runs" ]; do
        for mode in on off; do
            if [ "$mode" = on ]; then set --; else set -- --no-seccomp; fi
            "$VMM" run "$@" "$cfg" </dev/null 2>&1 |
                sed -n "s/.*userspace) \([0-9]*\) ticks.*in kernel) \([0-9]*\) ticks.*/BENCH-SECCOMP $mode \1 \2/p"
        done
        i=$((i + 1))
    done
    echo "BENCH-DONE"
} >/dev/console 2>&1
