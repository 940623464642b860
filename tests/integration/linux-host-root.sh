#!/bin/sh
# nested-timeout: 400
# Host-root mode: `vmm run --kernel K --host-root [--rw DIR] -- CMD` boots
# the bed's kernel on the bed's own files (virtio-fs, read-only) with
# vmm-init as PID 1. The command sees a file made here, runs in this
# working directory, may write /tmp (the guest's tmpfs) and the --rw folder
# but not "/", gets none of this environment but the few names vmm passes,
# and its status is vmm's: 42 as chosen, 127 for a missing command, 128+n
# for a signal.
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
    vmm run --kernel "$LINUX_KERNEL" --cpus 2 --memory 256M --append "$LINUX_BED_APPEND" --host-root "$@"
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
[ ! -e /host-root-probe ] || fail "the guest wrote the host's /"
[ ! -e /tmp/scratch ] || fail "the guest's /tmp is the host's"

host_root -- no-such-command-$$
expect_status 127
expect_stdout_has "vmm-init: no-such-command-$$: command not found"

host_root -- sh -c 'kill -TERM $$'
expect_status 143
