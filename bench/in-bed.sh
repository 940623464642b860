#!/bin/sh
# Runs inside the nested test bed as if it were an integration test (bench/run
# puts it there under a temporary tree); writes BENCH lines to the console,
# where bench/run collects them. Not an integration test: never in CI.
. "$(dirname "$0")/lib.sh"
need_kvm
runs=${BENCH_RUNS:-10}
fl=$TESTDIR/firstline
[ -x "$fl" ] || fail "no $fl"
{
    echo "BENCH-INFO arch=$ARCH kernel=$(uname -r) cpus=$(nproc) runs=$runs"
    # Baselines: a trivial process, and vmm doing no more than start up.
    "$fl" true "$runs" /bin/true
    "$fl" vmm-version "$runs" "$VMM" --version
    # The hello guest as configs/hello.toml has it (64 MiB, 2 vCPUs), and on
    # one vCPU.
    "$fl" hello "$runs" "$VMM" run "$VMM_SRCDIR/configs/hello.toml"
    "$fl" hello-1vcpu "$runs" "$VMM" run "$CONFIGS/hello-1.toml"
    echo "BENCH-DONE"
} >/dev/console 2>&1
