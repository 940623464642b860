#!/bin/sh
# nested-timeout: 420
# virtio-fs through vhost-user to virtiofsd (built into Debian's kernels:
# no module). Two shares: a read-write one from a config file's [[share]]
# and a read-only one from --share DIR:TAG,ro. The guest reads a file the
# host wrote (checksums on both sides) and writes one the host finds after
# vmm ends; in the read-only share a write is refused, even after the guest
# remounts it read-write, and nothing reaches the host's folder.
#
# A daemon that cannot start (missing, or ending at once) fails the start
# with one line naming the share. Then under vmm serve with workers on: a
# vm-create with a [[share]] in its inline config sees the first guest's
# file, query-vm lists the share, and the VM's end stops its daemon.
. "$(dirname "$0")/lib.sh"
need_linux
[ -x /usr/lib/qemu/virtiofsd ] ||
    skip "no virtiofsd for $ARCH (qemu-system-common; scripts/setup fetches arm64's)"
[ "$(id -u)" = 0 ] || skip "read-only shares need root"

KiB=1024
mkdir -p "$T/rw" "$T/ro"
head -c $((512 * KiB)) /dev/urandom >"$T/rw/host.bin"
echo "read-only data" >"$T/ro/keep.txt"
sum() { md5sum | cut -d' ' -f1; }
host_sum=$(sum <"$T/rw/host.bin")
guest_sum=$(yes guest-wrote-this | head -c 65536 | sum)

cat >"$T/shares.toml" <<EOF
[[share]]
path = "$T/rw"
tag = "data"
EOF

linux_initrd 'sum() { md5sum | cut -d" " -f1; }
mkdir -p /mnt/rw /mnt/ro
mount -t virtiofs data /mnt/rw && echo "rw mount: ok"
mount -t virtiofs ro-share /mnt/ro && echo "ro mount: ok"
echo "host.bin sum: $(sum </mnt/rw/host.bin)"
yes guest-wrote-this | head -c 65536 >/mnt/rw/guest.bin && echo "rw write: ok"
sync
echo "ro read: $(cat /mnt/ro/keep.txt)"
echo x >/mnt/ro/new.txt 2>/dev/null && echo "ro write: accepted" || echo "ro write: refused"
mount -o remount,rw /mnt/ro 2>/dev/null; echo "ro remount: $?"
echo x >/mnt/ro/new2.txt 2>/dev/null && echo "ro write after remount: accepted" ||
    echo "ro write after remount: refused"
echo y >>/mnt/ro/keep.txt 2>/dev/null && echo "ro append: accepted" || echo "ro append: refused"
umount /mnt/rw /mnt/ro
vmm-exit 0'
# VMM_TEST_IRQFD: each device says at its end how its backend's calls went.
export VMM_TEST_IRQFD=1
LINUX_APPEND=loglevel=4 VMM_TIMEOUT=200 vmm_linux "$T/shares.toml" --share "$T/ro:ro-share,ro"
unset VMM_TEST_IRQFD
expect_stdout_has "init: up"
expect_stdout_has "rw mount: ok"
expect_stdout_has "ro mount: ok"
expect_stdout_has "host.bin sum: $host_sum"
expect_stdout_has "rw write: ok"
expect_stdout_has "ro read: read-only data"
expect_stdout_has "ro write: refused"
expect_stdout_has "ro write after remount: refused"
expect_stdout_has "ro append: refused"
# MSI-X through irqfd: virtiofsd's calls reached the guest with no hop
# through the worker (a fallback to KVM_SIGNAL_MSI binds nothing).
[ "$(grep -cE "virtio-fs: irqfd: [1-9][0-9]* bindings, 0 backend calls through the worker" \
    "$T/stderr")" = 2 ] || fail "the shares' calls did not go through irqfds: $(cat "$T/stderr")"
bad="broke queue|did not start|forbidden|virtio-fs|KVM_SIGNAL_MSI"
! grep -v "virtio-fs: irqfd: " "$T/stderr" | grep -qE "$bad" ||
    fail "stderr: $(grep -E "$bad" "$T/stderr")"
expect_status 0
# The host's view: the guest's file, nothing new in the read-only folder.
[ "$(sum <"$T/rw/guest.bin")" = "$guest_sum" ] || fail "the guest's file is not on the host"
[ "$(cat "$T/ro/keep.txt")" = "read-only data" ] || fail "the read-only file changed"
[ ! -e "$T/ro/new.txt" ] && [ ! -e "$T/ro/new2.txt" ] || fail "a file appeared in the read-only share"
# No daemon outlives its VM.
! pgrep -f "source=$T/" >/dev/null 2>&1 || fail "a virtiofsd outlived vmm: $(pgrep -af "source=$T/")"
echo "run: ok"

# A daemon that cannot start: one line naming the share, and why.
# (exported and unset around each run: an assignment before a shell
# function may outlive the call)
export VMM_VIRTIOFSD=/nonexistent/virtiofsd
VMM_TIMEOUT=60 vmm_linux --share "$T/rw"
expect_status 125
expect_stderr_has "share rw: cannot run virtiofsd /nonexistent/virtiofsd: No such file or directory"
VMM_VIRTIOFSD=/bin/false
VMM_TIMEOUT=60 vmm_linux --share "$T/rw:early"
unset VMM_VIRTIOFSD
[ "$status" != 0 ] || fail "a daemon that ends at once: status 0"
expect_stderr_has "share early: vhost-user GET_FEATURES"
expect_stderr_has "virtiofsd exited with status 1"
VMM_TIMEOUT=60 vmm_linux --share "$T/rw/host.bin"
expect_status 125
expect_stderr_has "host.bin: not a folder"

# --- under vmm serve, the VM in a confined worker ---------------------------
linux_initrd 'sum() { md5sum | cut -d" " -f1; }
mkdir -p /mnt/s
mount -t virtiofs served /mnt/s && echo "served mount: ok"
echo "served guest.bin: $(sum </mnt/s/guest.bin)"
echo served >/mnt/s/served.txt && sync && echo "served write: ok"
echo "guest: done"
sleep 1000
vmm-exit 5'
cfg="config={\"vm\":{\"memory\":\"256M\",\"vcpus\":$LINUX_CPUS},\"boot\":{\"kernel\":\"$LINUX_KERNEL\",\"initrd\":\"$T/initrd\",\"cmdline\":\"$(linux_cmdline)\"},\"console\":{\"file\":\"$T/lx.console\"},\"share\":[{\"path\":\"$T/rw\",\"tag\":\"served\"}]}"
VMM_SERVE_WORKERS=on serve_start
ctl_ok vm-create name=lx start=true "$cfg"
wait_for "$T/lx.console" "guest: done" 200
grep -q "served mount: ok" "$T/lx.console" || fail "serve: mount: $(cat "$T/lx.console")"
grep -q "served guest.bin: $guest_sum" "$T/lx.console" ||
    fail "serve: the first guest's file is not seen: $(cat "$T/lx.console")"
grep -q "served write: ok" "$T/lx.console" || fail "serve: write: $(cat "$T/lx.console")"
[ "$(cat "$T/rw/served.txt")" = served ] || fail "serve: the guest's write is not on the host"
ctl_ok query-vm vm=lx
grep -q "\"shares\" *: *\[{\"path\" *: *\"$T/rw\", *\"tag\" *: *\"served\", *\"readonly\" *: *false}\]" "$T/ctl.out" ||
    fail "serve: query-vm: $(cat "$T/ctl.out")"
[ "$(status_of lx)" = running ] || fail "serve: lx is not running"
ctl_ok vm-destroy vm=lx
! grep -q "made forbidden" "$T/serve.err" || fail "serve: serve.err: $(cat "$T/serve.err")"
serve_quit
! pgrep -f "source=$T/" >/dev/null 2>&1 || fail "serve: a virtiofsd outlived its VM: $(pgrep -af "source=$T/")"
echo "serve --workers on: ok"
exit 0
