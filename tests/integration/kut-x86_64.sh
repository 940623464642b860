#!/bin/sh
# nested-timeout: 900
# kvm-unit-tests' x86_64 suite (multiboot images: src/arch/x86_64/multiboot.c),
# driven by its own runner, unchanged, through vmm's QEMU command-line shim
# (tools/vmm-qemu-shim), as a user runs it:
#     QEMU=vmm-qemu-shim ACCEL=kvm ./run_tests.sh
# Fails when a test listed in tests/kut/x86_64.pass does not PASS
# (tests/kut/suite.sh). tests/nested/run packs the suite (built by
# tests/kut/build) only when this test runs. Only the listed tests run;
# KUT_ALL=1 or KUT_TESTS=a,b (NESTED_ENV=...) run more, to find tests that
# now pass (docs/kvm-unit-tests.md, "Results").
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = x86_64 ] || skip "kvm-unit-tests' x86_64 suite runs on x86_64"
need_kvm
# The tests whose unittests.cfg line names a CPU model (qemu64,+x2apic,...)
# run as the host's CPU with the model's feature list: the shim's
# approximation, which those on the pass list do not notice
# (docs/kvm-unit-tests.md). Unset, the shim refuses them (SKIP).
VMM_SHIM_CPU_MODEL=${VMM_SHIM_CPU_MODEL-host}
export VMM_SHIM_CPU_MODEL
. "$VMM_SRCDIR/tests/kut/suite.sh"
kut_suite "$VMM_SRCDIR/tests/kut/x86_64.pass"
