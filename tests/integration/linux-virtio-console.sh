#!/bin/sh
# nested-timeout: 240
# virtio-console over PCI with its INTx interrupt (pci=nomsi: the guest
# leaves the MSI-X that the other virtio tests use alone, so the transport's
# fallback stays tested): Linux binds virtio_pci to it, makes hvc0, and what
# the guest writes there reaches vmm's console (stdout) beside the UART's
# output.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'for d in /sys/bus/pci/devices/*; do
    echo "pci: ${d##*/} $(cat $d/vendor) $(cat $d/device) driver=$(basename "$(readlink $d/driver)")"
done
i=0
while [ ! -c /dev/hvc0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
for n in 1 2 3; do echo "hvc0 says hello $n" > /dev/hvc0; done
head -c 5000 /dev/zero | tr "\0" "x" > /dev/hvc0
echo > /dev/hvc0
grep -q virtio /proc/interrupts && echo "irq: $(grep virtio /proc/interrupts | tr -s " ")"
vmm-exit 0'
LINUX_APPEND="loglevel=6 pci=nomsi" VMM_TIMEOUT=200 vmm_linux
expect_stdout_has "init: up"
expect_stdout_has "pci: 0000:00:01.0 0x1af4 0x1043 driver=virtio-pci"
expect_stdout_has "hvc0 says hello 1"
expect_stdout_has "hvc0 says hello 3"
# 5000 bytes in several buffers, in order and whole
grep -qE "x{5000}" "$T/stdout" || fail "the 5000-byte write did not arrive whole"
grep -q "^irq: " "$T/stdout" || fail "no virtio line in the guest's /proc/interrupts"
! grep -q "^irq: .*MSI" "$T/stdout" || fail "MSI despite pci=nomsi: $(grep "^irq: " "$T/stdout")"
# vmm's own messages are on stderr: no broken queue, no interrupt line
# that failed (KVM_IRQ_LINE before the interrupt controller exists), and
# KVM took the notify region (no KVM_IOEVENTFD refusal: kicks stay in KVM)
bad="broke queue|KVM_IRQ_LINE|KVM_IOEVENTFD|KVM_SIGNAL_MSI"
! grep -qE "$bad" "$T/stderr" || fail "stderr: $(grep -E "$bad" "$T/stderr")"
expect_status 0
