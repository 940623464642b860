#!/bin/sh
# nested-timeout: 120
# "reboot -f" in a Linux guest ends the VM with status 0 (x86_64: ACPI reset
# register / i8042 reset line; aarch64: PSCI SYSTEM_RESET).
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "init: rebooting"; reboot -f'
VMM_TIMEOUT=100 vmm_linux
expect_status 0
# what init prints may still sit in the tty buffer; the kernel's line may not
expect_stdout_has "init: up"
expect_stdout_has "Restarting system"
expect_stdout_lacks "fell off the end"
