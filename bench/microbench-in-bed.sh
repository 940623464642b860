#!/bin/sh
# Runs inside the aarch64 nested test bed as if it were an integration test
# (bench/run-microbench puts it there, under a temporary tree, as
# tests/integration/kut-bench.sh so that the bed packs kvm-unit-tests, and
# with KUT_QEMU=1 so that it packs QEMU too): kvm-unit-tests' micro-bench
# on vmm and on QEMU/KVM in turn, BENCH_ROUNDS rounds, each run's table to
# the console ("bench-mb: WHO ROUND NAME AVG_NS"), where bench/run-microbench
# collects them. Not an integration test: never in CI.
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "micro-bench is arm64's"
need_kvm
. "$VMM_SRCDIR/tests/kut/suite.sh"
rounds=${BENCH_ROUNDS:-2}
KUT=${VMM_KUT_DIR:-/vmm/kut}
{
    r=1
    while [ "$r" -le "$rounds" ]; do
        for who in vmm qemu; do
            q=0
            [ "$who" = qemu ] && q=1
            # kut_suite fails (exits) on a timeout: a subshell keeps the loop
            ( KUT_QEMU=$q KUT_TESTS=micro-bench kut_suite "$VMM_SRCDIR/tests/kut/arm64.pass" 2 ) \
                >"$T/out" 2>&1 || true
            status=$(grep -Eo '(PASS|FAIL|SKIP) micro-bench[^\r]*' "$T/out" | head -1)
            echo "bench-mb: $who $r status ${status:-none}"
            awk -v who="$who" -v r="$r" '
                $1 ~ /^(hyp_call|mmio_read_user|mmio_read_vgic|eoi|ipi|lpi|timer_10ms)$/ && NF >= 3 {
                    printf "bench-mb: %s %s %s %d\n", who, r, $1, $3 }' "$KUT/logs/micro-bench.log"
        done
        r=$((r + 1))
    done
    echo "BENCH-DONE"
} >/dev/console 2>&1
