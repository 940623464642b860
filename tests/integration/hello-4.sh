#!/bin/sh
# hello on 4 vCPUs: every vCPU's line comes out, once
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/hello-4.toml"
expect_status 0
for i in 0 1 2 3; do
    n=$(count_lines "$T/stdout" "hello from $ARCH guest, vCPU $i")
    [ "$n" = 1 ] || fail "vCPU $i: $n lines, expected 1"
done
[ "$(count_lines "$T/stdout" "hello from")" = 4 ] || fail "expected exactly four hello lines"
