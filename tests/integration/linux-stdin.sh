#!/bin/sh
# nested-timeout: 120
# vmm's standard input, a pipe (a named one here), reaches the Linux
# guest's console. The line is written once the guest reads: bytes that
# arrive while Linux's PL011 driver is still starting are drained by the
# driver itself (pl011_enable_interrupts empties the receive FIFO after
# unmasking it during start-up), as on real hardware.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "init: reading"; read -r line; echo "init: got <$line>"; vmm-exit 0'
_con=console=ttyS0
[ "$ARCH" = aarch64 ] && _con=console=ttyAMA0
cmdline="vmm run --kernel ... (stdin: a pipe)"
mkfifo "$T/in"
timeout "$(scaled 100)" "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" \
    --memory 256M --append "$_con quiet $LINUX_BED_APPEND" <"$T/in" >"$T/stdout" 2>"$T/stderr" &
pid=$!
exec 3>"$T/in"
wait_for_line "$T/stdout" "init: reading" 90
printf 'ping\n' >&3
exec 3>&-
wait "$pid"
status=$?
expect_status 0
expect_stdout_has "init: got <ping>"
