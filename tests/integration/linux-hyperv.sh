#!/bin/sh
# nested-timeout: 240
# A Linux guest of two vCPUs with [vm] hyperv (--hyperv on): KVM's Hyper-V
# leaves take CPUID 0x40000000 and KVM's own move to 0x40000100, where
# Linux still finds them (it scans the hypervisor range and prefers KVM),
# so it runs as a KVM guest with kvm-clock, brings both vCPUs up and ends
# with vmm-exit's status (a port write, no guest call: a VM with hyperv
# has none). The Hyper-V side itself: kvm-unit-tests' hyperv_* tests
# (kut-x86_64).
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = x86_64 ] || skip "[vm] hyperv is x86_64's"
need_linux
linux_initrd 'echo "nproc=$(nproc)"
echo "clocksources=$(cat /sys/devices/system/clocksource/clocksource0/available_clocksource)"
dmesg | grep -m 2 "Hypervisor detected\|kvm-clock"
vmm-exit 7'
LINUX_CPUS=2 VMM_TIMEOUT=200 vmm_linux --hyperv on
expect_status 7
expect_stdout_has "init: up"
expect_stdout_has "nproc=2"
expect_stdout_has "Hypervisor detected: KVM"
grep -q "^clocksources=.*kvm-clock" "$T/stdout" ||
    fail "kvm-clock is not among the guest's clocksources: $(grep '^clocksources=' "$T/stdout")"
