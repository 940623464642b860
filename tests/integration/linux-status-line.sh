#!/bin/sh
# nested-timeout: 240
# [console] status-line: a guest that prints "EXIT: STATUS=n" alone on a
# console line (kvm-unit-tests' report) and powers off ends vmm with n >> 1
# when --status-line is on: the LAST such whole line counts, a line with
# anything after the number does not. With the option off the same guest
# ends with 0, as any power-off does. A Linux guest, so the panic watch
# observes the same console (both observers see every byte).
. "$(dirname "$0")/lib.sh"
need_linux
# the tty may hold init's output back: give it time before the power-off
linux_initrd 'echo "EXIT: STATUS=9"; echo "EXIT: STATUS=5"; echo "EXIT: STATUS=7 and more";
echo "noise EXIT: STATUS=3"; sleep 2; poweroff -f'
VMM_TIMEOUT=100 vmm_linux --status-line on
expect_status 2
expect_stdout_has "EXIT: STATUS=5"
VMM_TIMEOUT=100 vmm_linux
expect_status 0
