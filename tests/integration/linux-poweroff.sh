#!/bin/sh
# nested-timeout: 120
# "poweroff -f" in a Linux guest ends the VM with status 0 (x86_64: ACPI S5
# through the sleep control register; aarch64: PSCI SYSTEM_OFF).
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "init: powering off"; poweroff -f'
VMM_TIMEOUT=100 vmm_linux
expect_status 0
# what init prints may still sit in the tty buffer; the kernel's line may not
expect_stdout_has "init: up"
expect_stdout_has "Power down"
expect_stdout_lacks "fell off the end"
