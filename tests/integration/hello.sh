#!/bin/sh
# configs/hello.toml: the bundled hello guest on one vCPU prints its line, exits 0
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$VMM_SRCDIR/configs/hello.toml"
expect_status 0
expect_stdout_has "hello from $ARCH guest, vCPU 0"
[ "$(count_lines "$T/stdout" "hello from")" = 1 ] || fail "expected exactly one hello line"
