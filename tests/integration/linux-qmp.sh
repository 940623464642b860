#!/bin/sh
# nested-timeout: 120
# vmm run --qmp boots a Linux kernel from the command line alone (--kernel,
# --initrd, --append, --cpus, --memory, no config file), answers on its
# socket meanwhile, and feeds its standard input (a pipe) to the guest's
# console, as vmm run without --qmp does. The guest's status is vmm's.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "nproc=$(nproc)"; read -r line; echo "init: got <$line>"; vmm-exit 7'
mkfifo "$T/in" || fail "mkfifo"
cmdline="vmm run --qmp unix:$QMP_SOCK --kernel ... --cpus 2 (stdin: a pipe)"
timeout "$(scaled 100)" "$VMM" run --qmp "unix:$QMP_SOCK" --kernel "$LINUX_KERNEL" \
    --initrd "$T/initrd" --cpus 2 --memory 256M --append "$(linux_cmdline)" \
    >"$T/stdout" 2>"$T/stderr" <"$T/in" &
pid=$!
exec 3>"$T/in"
trap 'kill -KILL $pid 2>/dev/null; rm -rf "$T"' EXIT
wait_for "$T/stdout" "nproc=2" 90
ctl_ok query-status
grep -q '"status": *"running"' "$T/ctl.out" || fail "query-status: $(cat "$T/ctl.out")"
echo ping >&3
exec 3>&-
wait "$pid"
status=$?
expect_status 7
expect_stdout_has "init: got <ping>"
[ ! -e "$QMP_SOCK" ] || fail "the socket is left after the guest ended"
