#!/bin/sh
# without /dev/kvm, "vmm run" says so in one line pointing at the nested test
# bed, and exits 126 (host only: skips where /dev/kvm exists)
. "$(dirname "$0")/lib.sh"
[ -e /dev/kvm ] && skip "this host has /dev/kvm"
need_vmm
vmm run "$VMM_SRCDIR/configs/hello.toml"
expect_status 126
n=$(grep -c '' "$T/stderr")
[ "$n" = 1 ] || fail "$n lines on stderr, expected one"
expect_stderr_has /dev/kvm
expect_stderr_has tests/nested
