#!/bin/sh
# nested-timeout: 500
# Host-root mode: `vmm run --kernel K --host-root [--rw DIR] -- CMD` boots
# the bed's kernel on the bed's own files (virtio-fs, read-only) with
# vmm-init as PID 1. The command sees a file made here, runs in this
# working directory, may write /tmp (the guest's tmpfs) and the --rw folder
# but not "/", gets none of this environment but the few names vmm passes,
# and its status is vmm's, after all of its output (see the XOFF case): 42
# as chosen, 127 for a missing command, 128+n for a signal.
. "$(dirname "$0")/lib.sh"
need_linux
# Outside /tmp: the guest's /tmp is its own, so the host's is not seen there.
H=$(mktemp -d "$VMM_SRCDIR/.host-root-test.XXXXXX") || fail "mktemp in $VMM_SRCDIR"
trap 'rm -rf "$T" "$H"' EXIT
echo "made on the host $$" >"$H/hostfile"
cd "$H" || fail "cd $H"
export VMM_HOST_ROOT_LEAK=yes
VMM_TIMEOUT=200

host_root() {
    vmm run --kernel "$LINUX_KERNEL" --cpus "$LINUX_CPUS" --memory 256M --append "$LINUX_BED_APPEND" --host-root "$@"
}

host_root --rw "$T" -- sh -c '
echo "cwd: $(pwd)"
echo "file: $(cat hostfile)"
echo scratch >/tmp/scratch && echo "tmp: $(cat /tmp/scratch)"
if (echo x >/host-root-probe) 2>/dev/null; then echo "root: writable"; else echo "root: read-only"; fi
echo "from the guest" >"$1/rw-out"
echo "pid1: $(cat /proc/1/comm)"
echo "leak: ${VMM_HOST_ROOT_LEAK:-none}"
exit 42' sh "$T"
expect_status 42
expect_stdout_has "cwd: $H"
expect_stdout_has "file: made on the host $$"
expect_stdout_has "tmp: scratch"
expect_stdout_has "root: read-only"
expect_stdout_has "pid1: init"
expect_stdout_has "leak: none"
[ "$(cat "$T/rw-out" 2>/dev/null)" = "from the guest" ] || fail "the --rw folder did not get the guest's file"
# vmm's stderr is the user's: no daemon's chatter (virtiofsd's warnings)
[ ! -s "$T/stderr" ] || fail "stderr is not empty: $(cat "$T/stderr")"
[ ! -e /host-root-probe ] || fail "the guest wrote the host's /"
[ ! -e /tmp/scratch ] || fail "the guest's /tmp is the host's"

# Output still queued for the UART when the command ends is not lost: the
# tty layer discards it when the session leader exits (a hang-up), so the
# command must not lead the session. Made certain here: a ^S (XOFF) on
# vmm's standard input stops the console's output, the command writes its
# last line (queued, not sent) and exits; a process it leaves behind says
# so in the --rw folder once the command is gone, and only then does a ^Q
# (XON) let the output go. Had the command's end hung the console up, that
# process would have died of its SIGHUP and the last line would be lost.
rm -f "$T/gone"
mkfifo "$T/in"
cmdline="vmm run ... --host-root --rw $T -- sh -c (the XOFF case)"
timeout "$(scaled 200)" "$VMM" run --kernel "$LINUX_KERNEL" --cpus "$LINUX_CPUS" --memory 256M \
    --append "$LINUX_BED_APPEND" --host-root --rw "$T" -- sh -c '
echo "ready"
read -r line
echo "last line, written while the output is stopped"
( while kill -0 $$ 2>/dev/null; do sleep 0.1; done; touch "$1/gone" ) &
exit 7' sh "$T" <"$T/in" >"$T/stdout" 2>"$T/stderr" &
pid=$!
exec 3>"$T/in"
wait_for_line "$T/stdout" "^ready" 200
printf '\023go\n' >&3
_gone_or_ended() { [ -e "$T/gone" ] || ! kill -0 "$pid" 2>/dev/null; }
wait_until 200 "the command's end" _gone_or_ended
# (in a subshell: with vmm gone, the write's SIGPIPE ends only that)
( printf '\021' >&3 ) 2>/dev/null
exec 3>&-
wait "$pid"
status=$?
expect_status 7
expect_stdout_has "last line, written while the output is stopped"
[ -e "$T/gone" ] || fail "the command's leftover process did not outlive it (a hang-up?)"

host_root -- no-such-command-$$
expect_status 127
expect_stdout_has "vmm-init: no-such-command-$$: command not found"

host_root -- sh -c 'kill -TERM $$'
expect_status 143
