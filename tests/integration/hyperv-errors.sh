#!/bin/sh
# [vm] hyperv's refusals, each one line with status 125 before any KVM is
# opened (so this runs on the host too): on aarch64 (x86_64's only); on a
# firmware boot (SynIC needs KVM's in-kernel LAPIC, which only kernel
# boots have); and with a policy that allows a guest call (vmcall is then
# KVM's and Hyper-V's, not vmm's conduit). That a guest gets Hyper-V:
# kvm-unit-tests' hyperv_* tests on tests/kut/x86_64.pass (kut-x86_64).
# [vm] hyperv-test-device without hyperv is refused the same way.
. "$(dirname "$0")/lib.sh"
need_vmm
: >"$T/kernel"
if [ "$ARCH" != x86_64 ]; then
    printf '[vm]\nhyperv = true\n[boot]\nkernel = "kernel"\n' >"$T/hv.toml"
    expect_config_error "$T/hv.toml" "[vm] hyperv is for x86_64 kernel boots"
    vmm run --hyperv on "$VMM_SRCDIR/configs/hello.toml"
    expect_status 125
    expect_stderr_has "[vm] hyperv is for x86_64 kernel boots"
    exit 0
fi
vmm run --hyperv on "$VMM_SRCDIR/configs/hello.toml"
expect_status 125
expect_stderr_has "[vm] hyperv is for x86_64 kernel boots"
[ "$(grep -c '' "$T/stderr")" = 1 ] || fail "not one line on stderr: $(cat "$T/stderr")"
printf '[vm]\nhyperv = true\n[boot]\nkernel = "kernel"\n[policy]\nflags = ["info"]\n' >"$T/calls.toml"
expect_config_error "$T/calls.toml" "vmm's guest calls are unavailable"
printf '[vm]\nhyperv = true\n[boot]\nkernel = "kernel"\n[policy]\nrole = "service"\n' >"$T/service.toml"
expect_config_error "$T/service.toml" "vmm's guest calls are unavailable"
printf '[vm]\nhyperv = "yes"\n[boot]\nkernel = "kernel"\n' >"$T/type.toml"
expect_config_error "$T/type.toml" "hyperv"
# the test device's routes go to KVM's SynIC: it needs hyperv
vmm run --hyperv-test-device on --kernel "$T/kernel"
expect_status 125
expect_stderr_has "[vm] hyperv-test-device needs [vm] hyperv"
vmm run --hyperv maybe --kernel "$T/kernel"
expect_status 125
expect_stderr_has "--hyperv"
