#!/bin/sh
# nested-timeout: 150
# aarch64: the guest has a working PMU where KVM offers one
# (KVM_CAP_ARM_PMU_V3, which the bed's KVM has): the firmware "pmu" finds
# PMUVer, reads PMCR_EL0.N, sees the cycle counter count and the device
# tree's arm,armv8-pmuv3 node on PPI 7 (status 0; 1 without a PMU); then
# Linux's arm_pmu driver probes it ("hw perfevents" in the kernel log).
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "the guest PMU is an aarch64 feature"
need_kvm
firmware pmu >/dev/null
cat >"$T/pmu.toml" <<EOT
[vm]
memory = "64M"

[boot]
firmware = "pmu"
EOT
vmm run "$T/pmu.toml"
expect_status 0
expect_stdout_has "pmu: device tree node arm,armv8-pmuv3, PPI 7"
grep -q "^pmu: PMUVer [1-9]" "$T/stdout" || fail "no PMUVer line"

need_linux
linux_initrd 'dmesg | grep "hw perfevents"; vmm-exit 0'
VMM_TIMEOUT=100 vmm_linux
expect_status 0
expect_stdout_has "hw perfevents: enabled with"
