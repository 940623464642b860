#!/bin/sh
# Every flag: console and ucall work, bad arguments are invalid, bad
# doorbells are refused and counted, ucall done ends the VM.
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/calls-all.toml"
expect_status 0
case "$ARCH" in
x86_64) invalid=-22 ;;
aarch64) invalid=-3 ;;
esac
expect_stdout_has "calls: console call works"
expect_stdout_has "calls: console-write: ok 0x1a"
expect_stdout_has "calls: console-write-too-long: refused $invalid"
expect_stdout_has "calls: console-write-outside-ram: refused $invalid"
expect_stdout_has "calls: features-64-bit-id: refused $invalid"
expect_stdout_has "calls: ucall print works"
expect_stdout_has "calls: ucall-sync: ok 0"
expect_stderr_has "calls-all: vCPU 0: sync 42"
[ "$ARCH" = aarch64 ] && expect_stderr_has "refused: not the start of a ucall structure"
expect_stderr_has "refused: another vCPU's structure"
expect_stderr_has "refused: outside the ucall area"
expect_stderr_has "refused: its self field differs"
expect_stderr_has "refused: its text runs off the buffer"
expect_stderr_has "-byte write"
[ "$ARCH" = x86_64 ] && expect_stdout_has "calls: features-console: ok 0"
expect_stdout_has "calls: done"
