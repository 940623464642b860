#!/bin/sh
# A service VM passes the role check for management calls; under plain
# `vmm run` there is no VM it may manage, so they are invalid.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/calls-service.toml"
expect_status 0
case "$ARCH" in
x86_64) expect_stdout_has "calls: vm-query: refused -22" ;;
aarch64) expect_stdout_has "calls: vm-query: refused -3" ;;
esac
expect_stdout_has "calls: whoami results: 0 0x1 0"
grep -q "(vm-query) refused" "$T/stderr" && fail "vm-query was refused by the policy"
exit 0
