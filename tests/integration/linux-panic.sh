#!/bin/sh
# nested-timeout: 180
# A panicking Linux guest never looks like success: with panic=-1 it resets
# after the panic banner, without it it stops after the banner's last line;
# both end vmm with 121 and a line naming the panic.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo c > /proc/sysrq-trigger; vmm-exit 0'
VMM_TIMEOUT=100 vmm_linux
expect_status 121
expect_stdout_has "Kernel panic - not syncing"
expect_stderr_has "panicked"
# the same without panic=-1: the kernel would spin; vmm ends it at the banner's end
_con=console=ttyS0
[ "$ARCH" = aarch64 ] && _con=console=ttyAMA0
VMM_TIMEOUT=100 vmm run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --memory 256M \
    --append "$_con quiet" --timeout "$(scaled 90)"
expect_status 121
expect_stderr_has "panicked"
