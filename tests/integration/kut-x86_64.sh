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
. "$VMM_SRCDIR/tests/kut/suite.sh"
kut_suite "$VMM_SRCDIR/tests/kut/x86_64.pass"
