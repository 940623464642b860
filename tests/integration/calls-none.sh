#!/bin/sh
# A VM allowed no call: x86_64 vmcall raises #UD at the instruction, at any
# ring; aarch64 answers NOT_SUPPORTED through hvc and smc, while KVM's own
# services (TRNG, on by default) still answer.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/calls-none.toml"
expect_status 0
case "$ARCH" in
x86_64)
    expect_stdout_has "calls: version-ring3: #UD at the call"
    expect_stdout_has "calls: version: #UD at the call"
    expect_stdout_has "calls: unknown: #UD at the call"
    expect_stderr_has "refused: no-calls"
    ;;
aarch64)
    expect_stdout_has "calls: version: refused -1"
    expect_stdout_has "calls: version-smc: refused -1"
    expect_stdout_has "calls: vendor-uid: refused -1"
    expect_stdout_has "calls: vendor-uid-smc: refused -1"
    expect_stdout_has "calls: trng-version: ok 0x10000"
    expect_stdout_has "calls: trng-version-smc: ok 0x10000"
    expect_stderr_has "smc call 0xc6001000 (version) refused: no-calls"
    ;;
esac
expect_stdout_has "calls: ucall-print: refused -1"
expect_stdout_lacks "ucall print works"
expect_stdout_has "calls: done"
