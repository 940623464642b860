#!/bin/sh
# PSCI SYSTEM_RESET ends the VM with status 0 (aarch64 only)
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "reset is an aarch64 (PSCI) test"
need_kvm
vmm run "$CONFIGS/reset.toml"
expect_status 0
