#!/bin/sh
# nested-timeout: 120
# vmm's standard input, a pipe here, reaches the Linux guest's console.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'read -r line; echo "init: got <$line>"; vmm-exit 0'
_con=console=ttyS0
[ "$ARCH" = aarch64 ] && _con=console=ttyAMA0
cmdline="vmm run --kernel ... (stdin: a pipe)"
printf 'ping\n' | timeout "$(scaled 100)" "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" \
    --memory 256M --append "$_con quiet" >"$T/stdout" 2>"$T/stderr"
status=$?
expect_status 0
expect_stdout_has "init: got <ping>"
