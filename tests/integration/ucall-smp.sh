#!/bin/sh
# Four vCPUs hammer ucall at once: every message arrives intact, and every
# sync is attributed by vmm to the vCPU that sent it.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/ucall-smp.toml"
expect_status 0
for cpu in 0 1 2 3; do
    n=0
    while [ $n -lt 50 ]; do
        c=$(grep -cx "ucall-smp: vCPU $cpu message $n intact" "$T/stdout")
        [ "$c" = 1 ] || fail "vCPU $cpu message $n arrived $c times"
        grep -q "ucall-smp: vCPU $cpu: sync $((cpu * 1000 + n))\$" "$T/stderr" ||
            fail "no sync $((cpu * 1000 + n)) from vCPU $cpu"
        n=$((n + 1))
    done
done
c=$(grep -c '' "$T/stdout")
[ "$c" = 200 ] || fail "$c lines on stdout, expected 200"
