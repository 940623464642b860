#!/bin/sh
# nested-machine: gicv2
# [vm] gic-version and mte on a host whose GIC is a GICv2 with its
# virtualization extensions and whose CPU has MTE (tests/nested/run boots
# this test's bed so): by default vmm gives the guest the GICv2 the host's
# KVM can emulate, --gic-version 2 asks for it, --gic-version 3 is refused
# with one line naming the option, a GICv2 takes at most 8 vCPUs, and
# --mte on makes a VM with memory tagging. Every vCPU of the hello
# firmware (its SMP start through PSCI) prints its line.
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "GICv2 and MTE are aarch64's"
need_kvm
hello() { # hello CPUS [ARGS...]: the hello firmware, every vCPU's line
    _n=$1
    shift
    vmm run --cpus "$_n" "$@" "$VMM_SRCDIR/configs/hello.toml"
    expect_status 0
    [ "$(count_lines "$T/stdout" "hello from aarch64 guest")" = "$_n" ] ||
        fail "vmm run --cpus $_n $*: $(count_lines "$T/stdout" "hello from") hello lines, expected $_n"
    [ ! -s "$T/stderr" ] || fail "vmm run --cpus $_n $*: stderr: $(cat "$T/stderr")"
}
hello 2
hello 4 --gic-version 2
hello 8 --gic-version 2 --mte on
hello 1 --mte on
vmm run --gic-version 3 "$VMM_SRCDIR/configs/hello.toml"
expect_status 127
expect_stderr_has "GICv3: KVM_CREATE_DEVICE: No such device (the host's KVM cannot emulate this GIC"
[ "$(grep -c '' "$T/stderr")" = 1 ] || fail "not one line on stderr: $(cat "$T/stderr")"
vmm run --gic-version 2 --cpus 9 "$VMM_SRCDIR/configs/hello.toml"
expect_status 125
expect_stderr_has "gic-version 2 serves at most 8 vCPUs, not 9"
# the host's choice on this host is a GICv2, whose limit KVM reports as
# its own (KVM_CAP_MAX_VCPUS is 8 with a GICv2)
vmm run --cpus 9 "$VMM_SRCDIR/configs/hello.toml"
expect_status 125
expect_stderr_has "9 is more than KVM on this host allows (8)"
