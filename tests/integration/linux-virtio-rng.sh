#!/bin/sh
# nested-timeout: 240
# virtio-rng over PCI: Linux's virtio-rng driver (a module in Debian's
# kernels, loaded from the initramfs) binds to it, it becomes the current
# hardware RNG, and /dev/hwrng reads return the host's random bytes. The
# driver takes MSI-X (vectors for its queue and for configuration changes),
# so its interrupts are messages, not the INTx line.
. "$(dirname "$0")/lib.sh"
need_linux
need_linux_module virtio-rng
linux_initrd 'd=/sys/bus/pci/devices/0000:00:02.0
echo "pci: ${d##*/} $(cat $d/vendor) $(cat $d/device) driver=$(basename "$(readlink $d/driver)")"
echo "rng_current: $(cat /sys/class/misc/hw_random/rng_current)"
echo "hwrng bytes: $(head -c 4096 /dev/hwrng | wc -c)"
echo "hwrng nonzero: $(head -c 4096 /dev/hwrng | tr -d "\0" | wc -c)"
echo "msi vectors: $(ls $d/msi_irqs 2>/dev/null | wc -l)"
grep -i "virtio" /proc/interrupts | sed "s/^/interrupts: /"
vmm-exit 0'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=200 vmm_linux
expect_stdout_has "init: up"
expect_stdout_lacks "insmod virtio-rng failed"
expect_stdout_has "pci: 0000:00:02.0 0x1af4 0x1044 driver=virtio-pci"
expect_stdout_has "rng_current: virtio_rng.0"
expect_stdout_has "hwrng bytes: 4096"
# random bytes: about 1 in 256 is zero; all-zero or mostly-zero data is not
nonzero=$(sed -n 's/^hwrng nonzero: *\([0-9]*\).*/\1/p' "$T/stdout")
[ "${nonzero:-0}" -gt 3900 ] || fail "only ${nonzero:-no} of 4096 bytes from /dev/hwrng are nonzero"
# one vector for the request queue, one for configuration changes
expect_stdout_has "msi vectors: 2"
grep -qE "^interrupts: .*MSI.*virtio" "$T/stdout" ||
    fail "no virtio MSI line in the guest's /proc/interrupts: $(grep "^interrupts: " "$T/stdout")"
bad="broke queue|KVM_IRQ_LINE|KVM_IOEVENTFD|KVM_SIGNAL_MSI|getrandom"
! grep -qE "$bad" "$T/stderr" || fail "stderr: $(grep -E "$bad" "$T/stderr")"
expect_status 0
