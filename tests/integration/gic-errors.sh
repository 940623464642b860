#!/bin/sh
# [vm] gic-version and mte where the host cannot give them: the usual
# aarch64 bed's host GIC is a GICv3 without GICv2 compatibility and its CPU
# has no MTE, so --gic-version 2 and --mte on each end vmm with one line
# (status 127, as a CPU feature KVM cannot give); --gic-version 3 works.
# On x86_64 both keys are refused as aarch64's (status 125). The GICv2 and
# MTE themselves: tests/integration/gicv2.sh, in a bed that has them.
# Also the one x86_64-only machine key: [vm] pit = false is refused on
# aarch64 (status 125); on x86_64 it is kvm-unit-tests' vmexit_ipi's.
. "$(dirname "$0")/lib.sh"
cfg=$VMM_SRCDIR/configs/hello.toml
if [ "$ARCH" = x86_64 ]; then
    vmm run --gic-version 3 "$cfg"
    expect_status 125
    expect_stderr_has "[vm] gic-version is for aarch64 guests"
    vmm run --mte on "$cfg"
    expect_status 125
    expect_stderr_has "[vm] mte is for aarch64 guests"
    exit 0
fi
vmm run --pit off "$cfg"
expect_status 125
expect_stderr_has "[vm] pit is for x86_64 guests"
need_kvm
vmm run --gic-version 3 "$cfg"
expect_status 0
expect_stdout_has "hello from aarch64 guest, vCPU 1"
vmm run --gic-version 2 "$cfg"
expect_status 127
expect_stderr_has "GICv2: KVM_CREATE_DEVICE: No such device (the host's KVM cannot emulate this GIC"
[ "$(grep -c '' "$T/stderr")" = 1 ] || fail "not one line on stderr: $(cat "$T/stderr")"
vmm run --mte on "$cfg"
expect_status 127
expect_stderr_has "[vm] mte: KVM offers no memory tagging (KVM_CAP_ARM_MTE)"
[ "$(grep -c '' "$T/stderr")" = 1 ] || fail "not one line on stderr: $(cat "$T/stderr")"
