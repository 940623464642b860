#!/bin/sh
# hello on one vCPU: vCPU 0's line, only it; status 0
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/hello-1.toml"
expect_status 0
expect_stdout_has "hello from $ARCH guest, vCPU 0"
c=$(count_lines "$T/stdout" "hello from")
[ "$c" = 1 ] || fail "$c hello lines, expected 1"
