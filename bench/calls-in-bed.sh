#!/bin/sh
# Runs inside the nested test bed as if it were an integration test
# (bench/run-calls RUNS puts it there under a temporary tree): the
# bench-calls guest RUNS times in one boot, its lines to the console, where
# bench/run-calls collects them. Not an integration test: never in CI.
. "$(dirname "$0")/lib.sh"
need_kvm
runs=${BENCH_RUNS:-5}
{
    i=0
    while [ "$i" -lt "$runs" ]; do
        "$VMM" run "$VMM_SRCDIR/configs/bench-calls.toml" | grep '^bench-calls:'
        i=$((i + 1))
    done
    echo "BENCH-DONE"
} >/dev/console 2>&1
