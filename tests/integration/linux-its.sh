#!/bin/sh
# nested-timeout: 240
# aarch64: Linux finds the GICv3 ITS the device tree describes (a child of
# the GIC node) and sets it up, so that MSIs have somewhere to go.
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "the ITS is aarch64's"
need_linux
linux_initrd 'dmesg | grep -i "its" | sed "s/^/dmesg: /"
vmm-exit 0'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=200 vmm_linux
expect_stdout_has "init: up"
expect_stdout_has "ITS [mem 0x08080000-0x0809ffff]"
expect_stdout_has "ITS@0x0000000008080000"
expect_stdout_lacks "ITS: failed"
expect_status 0
