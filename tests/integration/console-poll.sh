#!/bin/sh
# A firmware guest that polls the UART for input (16550 LSR.DR, PL011
# FR.RXFE), its receive interrupt masked as out of reset, reads the line
# vmm's standard input (a named pipe) gives it: it echoes the line and ends
# the VM with the number the line holds. Before, the UARTs took input only
# once a driver had unmasked the receive interrupt, and a polling guest
# (kvm-unit-tests' getchar) waited forever.
. "$(dirname "$0")/lib.sh"
need_kvm
firmware echo-input >/dev/null
cat >"$T/echo.toml" <<EOT
[vm]
memory = "64M"

[boot]
firmware = "echo-input"
EOT
cmdline="vmm run echo.toml (firmware echo-input, stdin: a pipe)"
mkfifo "$T/in"
timeout "$(scaled 60)" "$VMM" run "$T/echo.toml" <"$T/in" >"$T/stdout" 2>"$T/stderr" &
pid=$!
exec 3>"$T/in"
wait_for_line "$T/stdout" "echo-input: reading" 40
printf '42\n' >&3
wait "$pid"
status=$?
exec 3>&-
expect_status 42
expect_stdout_has "echo-input: got <42>"
