#!/bin/sh
# The "info" flag: discovery works; other calls are refused with the
# architecture's code; x86_64 vmcall from ring 3 raises #GP(0) at the call.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/calls-info.toml"
expect_status 0
case "$ARCH" in
x86_64) refused=-22 ;;
aarch64) refused=-1 ;;
esac
if [ "$ARCH" = x86_64 ]; then
    expect_stdout_has "calls: version-ring3: #GP(0) at the call"
    expect_stdout_has "calls: features-console: refused -22"
    expect_stderr_has "refused: privilege"
else
    expect_stdout_has "calls: version-smc: ok 0x10000"
fi
expect_stdout_has "calls: version: ok 0x10000"
expect_stdout_has "calls: vm-query: refused $refused"
expect_stdout_has "calls: unknown: refused $refused"
expect_stdout_has "calls: vendor-uid results: 0x6d6d7600 0x4a1e9b52 0x8c3f1d27 0x5ae0c6b1"
expect_stdout_has "calls: vendor-uid-smc: ok 0x6d6d7600"
expect_stdout_has "calls: vendor-revision: ok 0x1"
expect_stdout_has "calls: whoami results: 0 0 0 0x6e692d736c6c6163"
expect_stdout_has "calls: console-write: refused $refused"
expect_stdout_lacks "console call works"
expect_stdout_has "calls: ucall-print: refused -1"
expect_stdout_has "calls: ucall-version: ok 0x10000"
expect_stderr_has "(vm-query) refused: service-only"
expect_stderr_has "(console-write) refused: missing-flags"
expect_stderr_has "(unknown) refused: unknown"
