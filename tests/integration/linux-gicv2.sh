#!/bin/sh
# nested-machine: gicv2
# nested-timeout: 300
# Linux on vmm's GICv2 with memory tagging (tests/nested/run boots this
# test's bed on a GICv2 host with MTE): the kernel takes the GICv2
# ("GIC-0" in /proc/interrupts) and the architected timer on it, brings up
# both vCPUs, finds MTE in its ID registers, and a PCI function without
# MSIs (a GICv2 has no ITS) interrupts through its INTx line: the
# virtio-rng driver reads the host's random bytes.
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "GICv2 and MTE are aarch64's"
need_linux
need_linux_module virtio-rng
linux_initrd 'd=/sys/bus/pci/devices/0000:00:02.0
echo "cpus online: $(cat /sys/devices/system/cpu/online)"
echo "gic: $(grep -o -m 1 "GIC-0\|GICv3" /proc/interrupts)"
echo "timer: $(grep -c "arch_timer" /proc/interrupts)"
echo "mte: $(grep -m 1 "^Features" /proc/cpuinfo | grep -ow mte)"
echo "pci: ${d##*/} $(cat $d/vendor) $(cat $d/device) driver=$(basename "$(readlink $d/driver)")"
echo "msi vectors: $(ls $d/msi_irqs 2>/dev/null | wc -l)"
echo "hwrng bytes: $(head -c 4096 /dev/hwrng | wc -c)"
grep -i "virtio" /proc/interrupts | sed "s/^/interrupts: /"
vmm-exit 0'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=240 vmm_linux --mte on
expect_stdout_has "init: up"
expect_stdout_has "cpus online: 0-1"
expect_stdout_has "gic: GIC-0"
expect_stdout_lacks "timer: 0"
expect_stdout_has "mte: mte"
expect_stdout_has "pci: 0000:00:02.0 0x1af4 0x1044 driver=virtio-pci"
expect_stdout_has "msi vectors: 0"
expect_stdout_has "hwrng bytes: 4096"
grep -q "^interrupts: .*GIC-0.*virtio" "$T/stdout" ||
    fail "no virtio line on the GICv2 in /proc/interrupts: $(grep "^interrupts: " "$T/stdout")"
expect_status 0
