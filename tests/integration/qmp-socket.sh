#!/bin/sh
# vmm serve's socket, without KVM: mode 0600, a live one refused, a stale
# one replaced, removed on quit; vmm ctl's statuses; bad input keeps the
# connection and the server usable; a config that is a FIFO or a system
# file is refused at once and never quoted
. "$(dirname "$0")/lib.sh"
serve_start
perm=$(stat -c %a "$QMP_SOCK")
[ "$perm" = 600 ] || fail "socket mode $perm, expected 600"

# a second server on the same live socket is refused
vmm serve --qmp "unix:$QMP_SOCK"
[ "$status" = 125 ] || fail "a second vmm serve on a live socket exited $status"
expect_stderr_has "in use"

ctl_ok query-version
grep -q '"package"' "$T/ctl.out" || fail "query-version: $(cat "$T/ctl.out")"
ctl_ok query-vms
grep -q '^\[\]$' "$T/ctl.out" || fail "query-vms on an empty manager: $(cat "$T/ctl.out")"
ctl_ok query-commands
for c in qmp_capabilities query-status vm-create vm-start stop cont system_reset \
         system_powerdown vm-destroy query-vms query-vm query-policy set-policy \
         query-hypercall-stats quit; do
    grep -q "\"$c\"" "$T/ctl.out" || fail "query-commands lacks $c"
done
ctl_ok query-events
for e in VM_STARTED STOP RESUME RESET SHUTDOWN VM_DESTROYED GUEST_CRASHED GUEST_CALL \
         HYPERCALL_DENIED; do
    grep -q "\"$e\"" "$T/ctl.out" || fail "query-events lacks $e"
done
ctl_err "DeviceNotFound: No VM named 'ghost'" query-status vm=ghost
# arguments are checked against the schema before the VM is looked up
ctl_err "'timeout-ms' must be 1 to 600000" monitor-calls vm=ghost first=0 last=1 timeout-ms=0
ctl_err "CommandNotFound" no-such-command
ctl_err "Parameter 'bogus' is unexpected" query-vms bogus=1
ctl_err "Invalid parameter type for 'vm'" query-status vm=42
ctl_err "Parameter 'vm' is missing" stop
ctl_err "No such file" vm-create name=x config=/nonexistent.toml
# a FIFO as the config: refused at once (it blocked the whole server before)
mkfifo "$T/fifo.toml" || fail "mkfifo"
ctl_err "not a regular file" vm-create name=x config="$T/fifo.toml"
ctl_ok query-vms
# a system file as the config: its text is never echoed back
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$T/passwd"
ctl_err "not shown" vm-create name=x config="$T/passwd"
! grep -q "root" "$T/ctl.err" || fail "vm-create quoted a non-config file: $(cat "$T/ctl.err")"
# a NUL in a config file's string is refused, not cut to "hello"
printf '[boot]\nfirmware = "hello\\u0000x"\n' >"$T/nul.toml"
ctl_err "boot.firmware: a string holding NUL" vm-create name=x config="$T/nul.toml"
# vmm ctl takes strict JSON values only: a number json-glib would wrap to
# -1 goes as the string it is (and is refused as one)
ctl_err "Invalid parameter type for 'token'" call-return token=99999999999999999999
ctl query-vms "{'a':1}"
[ "$ctl_status" = 125 ] && grep -q "is not a JSON object" "$T/ctl.err" ||
    fail "vmm ctl took a single-quoted object: $ctl_status $(cat "$T/ctl.err")"
# the server still answers after all that
ctl_ok query-vms

# vmm ctl: bad usage 125, no server 2
"$VMM" ctl >/dev/null 2>&1
[ $? = 125 ] || fail "vmm ctl without arguments should exit 125"
"$VMM" ctl --qmp "$T/nothing.sock" query-vms >/dev/null 2>&1
[ $? = 2 ] || fail "vmm ctl on no socket should exit 2"

serve_quit

# a stale socket (nobody listening) is replaced
kill -KILL "$serve_pid" 2>/dev/null
serve_start
kill -KILL "$serve_pid"
wait "$serve_pid" 2>/dev/null
[ -S "$QMP_SOCK" ] || fail "no stale socket left by a killed vmm serve"
serve_start
ctl_ok query-vms
serve_quit

# a file that is not a socket is never removed
echo keep >"$QMP_SOCK"
vmm serve --qmp "unix:$QMP_SOCK"
[ "$status" = 125 ] || fail "vmm serve over a regular file exited $status"
grep -q keep "$QMP_SOCK" || fail "vmm serve removed a regular file"
exit 0
