#!/bin/sh
# nested-machine: gicv2
# nested-timeout: 600
# kvm-unit-tests' arm64 GICv2 and MTE tests (the gic and mte groups of
# arm/unittests.cfg, "-machine gic-version=2" and "-machine mte=on"),
# through the shim as kut-arm64.sh runs the rest, in the bed whose host
# has a GICv2 and MTE (tests/nested/run). Fails when a test listed in
# tests/kut/arm64-gicv2.pass does not PASS. MAX_SMP is at least 3, so that
# gicv2-mmio-3p has its 3 vCPUs (the others take up to 8; 3 keeps them quick).
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "kvm-unit-tests' arm64 suite runs on aarch64"
need_kvm
. "$VMM_SRCDIR/tests/kut/suite.sh"
kut_suite "$VMM_SRCDIR/tests/kut/arm64-gicv2.pass" 3
