#!/bin/sh
# Services switched off by [policy.services]: vmm's console and ucall
# services, and (aarch64) KVM's own TRNG through the firmware bitmap.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/calls-narrow.toml"
expect_status 0
case "$ARCH" in
x86_64) expect_stdout_has "calls: console-write: refused -22" ;;
aarch64)
    expect_stdout_has "calls: console-write: refused -1"
    expect_stdout_has "calls: trng-version: refused -1"
    expect_stdout_has "calls: trng-version-smc: refused -1"
    ;;
esac
expect_stdout_has "calls: version: ok 0x10000"
expect_stdout_has "calls: ucall-print: refused -1"
expect_stderr_has "(console-write) refused: service-disabled"
