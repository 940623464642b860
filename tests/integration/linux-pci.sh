#!/bin/sh
# nested-timeout: 240
# Linux finds the PCI host bridge (x86_64: ACPI's PCI0 and the 0xcf8
# ports; aarch64: the device tree's generic ECAM host), scans bus 0 and
# lists the bridge at 00:00.0, with no ACPI or PCI complaint on the way.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'for d in /sys/bus/pci/devices/*; do
    echo "pci: ${d##*/} $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"
done
vmm-exit 0'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=200 vmm_linux
expect_stdout_has "init: up"
expect_stdout_has "pci: 0000:00:00.0 0x1af4 0x10ff 0x060000"
expect_stdout_lacks "ACPI Error"
expect_stdout_lacks "ACPI BIOS Error"
expect_stdout_lacks "PCI: Fatal"
expect_status 0
