#!/bin/sh
# nested-timeout: 900
# kvm-unit-tests' arm64 suite, driven by its own runner, unchanged, through
# vmm's QEMU command-line shim (tools/vmm-qemu-shim), as a user runs it:
#     QEMU=vmm-qemu-shim ACCEL=kvm ./run_tests.sh
# Fails when a test listed in tests/kut/arm64.pass does not PASS
# (tests/kut/suite.sh). tests/nested/run packs the suite (built by
# tests/kut/build) only when this test runs. CI runs only the listed tests
# (the runner takes test names): the whole suite took 1280 s in the arm64
# bed, over CI's budget. KUT_ALL=1 (NESTED_ENV="KUT_ALL=1") runs all of it
# and KUT_TESTS names others (NESTED_ENV="KUT_TESTS=pmu-sw-incr,fpu-context"),
# to find tests that now pass (docs/kvm-unit-tests.md, "Results"). MAX_SMP
# is at least 4 (its-trigger wants 4 vCPUs); KUT_MAX_SMP sets it.
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "kvm-unit-tests' arm64 suite runs on aarch64"
need_kvm
. "$VMM_SRCDIR/tests/kut/suite.sh"
kut_suite "$VMM_SRCDIR/tests/kut/arm64.pass" 4
