#!/bin/sh
# nested-timeout: 480
# virtio-vsock through the host kernel's vhost-vsock: Linux's
# vmw_vsock_virtio_transport (a module in Debian's kernels, loaded from the
# initramfs) talks AF_VSOCK to the bed, where vhost_vsock is loaded.
# tests/tools/vsock-echo runs on both sides:
# - host -> guest: the guest listens on port 5000, the host connects to the
#   VM's CID and sends a known payload; what comes back, and what the guest
#   received, has the payload's checksum;
# - guest -> host: the host listens on port 5001, the guest connects to CID
#   2 and sends another; the same checks the other way;
# - a second VM asking for the CID the first holds is refused when it is
#   built, naming the CID, and the first goes on (the host -> guest echo
#   runs after the refusal).
# First under vmm run --vsock CID, where the guest then unloads and reloads
# its driver (a device reset: vhost stopped, then started on the new rings)
# and echoes once more; then under vmm serve with [vsock] cid in the inline
# config and query-vm showing it, its VM in a confined worker (the vsock
# worker's seccomp list, the worker's sandbox; a system_reset builds it
# again in a new worker, which claims the CID anew) and in vmm serve's own
# process (--workers off: serve's seccomp list).
. "$(dirname "$0")/lib.sh"
need_linux
need_linux_module vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport
need_vsock_echo
if [ ! -c /dev/vhost-vsock ]; then
    [ -n "${VMM_BED:-}" ] && fail "no /dev/vhost-vsock in the bed (tests/nested/init loads vhost_vsock)"
    skip "no /dev/vhost-vsock (modprobe vhost_vsock)"
fi

cid=$((1000 + $$ % 30000))
size=300000
sum() { md5sum | cut -d' ' -f1; }
yes host-to-guest-payload | head -c $size >"$T/payload"
h_sum=$(sum <"$T/payload")
g_sum=$(yes guest-to-host-payload | head -c $size | sum)

# host_listen: the host's echo on port 5001, its copy in $T/host-got
host_listen() {
    rm -f "$T/hl.out" "$T/host-got"
    "$VSOCK_ECHO" listen 5001 "$T/host-got" >"$T/hl.out" 2>&1 &
    hl_pid=$!
    wait_for "$T/hl.out" "listening on port 5001"
}

# host_to_guest WHAT: the host's payload to the guest's echo and back
host_to_guest() {
    "$VSOCK_ECHO" connect "$cid" 5000 <"$T/payload" >"$T/back" 2>"$T/connect.err" ||
        fail "$1: host -> guest: $(cat "$T/connect.err")"
    [ "$(sum <"$T/back")" = "$h_sum" ] || fail "$1: host -> guest: the echo is not the payload"
}

# host_got WHAT: the host's echo served the guest's payload
host_got() {
    wait "$hl_pid" || fail "$1: the host's echo failed: $(cat "$T/hl.out")"
    grep -q "echoed $size bytes" "$T/hl.out" || fail "$1: host's echo: $(cat "$T/hl.out")"
    [ "$(sum <"$T/host-got")" = "$g_sum" ] || fail "$1: guest -> host: the host got other bytes"
}

guest_part='sum() { md5sum | cut -d" " -f1; }
yes guest-to-host-payload | head -c '$size' >/tmp/p
vsock-echo listen 5000 /tmp/got
echo "guest: received $(sum </tmp/got)"
vsock-echo connect 2 5001 </tmp/p >/tmp/back && echo "guest: connect ok"
echo "guest: echoed back $(sum </tmp/back)"'

# --- vmm run --vsock CID ------------------------------------------------------
linux_initrd "$guest_part
rmmod vmw_vsock_virtio_transport && insmod /lib/modules/vmw_vsock_virtio_transport.ko &&
    echo \"guest: driver reloaded\"
vsock-echo listen 5002 /tmp/got2
echo \"guest: received again \$(sum </tmp/got2)\"
vmm-exit 0"
host_listen
# the first VM's output goes to its own files: vmm_linux's are the second's
# VMM_TEST_IRQFD: the device says at its end how its backend's calls went.
VMM_TEST_IRQFD=1 timeout "$(scaled 200)" "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus "$LINUX_CPUS" \
    --memory 256M --append "$(linux_cmdline)" --vsock "$cid" \
    >"$T/vm1.out" 2>"$T/vm1.err" </dev/null &
vm_pid=$!
wait_for "$T/vm1.out" "listening on port 5000" 200

# The CID is the first VM's: a second one is not built.
VMM_TIMEOUT=60 vmm_linux --vsock "$cid"
expect_status 125
expect_stderr_has "CID $cid is in use"

host_to_guest "vmm run"
wait_for "$T/vm1.out" "listening on port 5002" 100
grep -q "guest: driver reloaded" "$T/vm1.out" || fail "vmm run: reload: $(cat "$T/vm1.out")"
"$VSOCK_ECHO" connect "$cid" 5002 <"$T/payload" >"$T/back" 2>"$T/connect.err" ||
    fail "vmm run: after the driver's reset: $(cat "$T/connect.err")"
[ "$(sum <"$T/back")" = "$h_sum" ] || fail "vmm run: after the driver's reset: another echo"
wait "$vm_pid"
vm_status=$?
[ "$vm_status" = 0 ] || fail "vmm run: the first VM ended $vm_status: $(cat "$T/vm1.err" "$T/vm1.out")"
grep -q "guest: received $h_sum" "$T/vm1.out" ||
    fail "vmm run: the guest did not receive the payload: $(cat "$T/vm1.out")"
grep -q "guest: echoed back $g_sum" "$T/vm1.out" ||
    fail "vmm run: guest -> host: $(grep guest: "$T/vm1.out")"
grep -q "guest: received again $h_sum" "$T/vm1.out" ||
    fail "vmm run: after the driver's reset: $(grep guest: "$T/vm1.out")"
host_got "vmm run"
# MSI-X through irqfd: vhost's calls reached the guest with no hop through
# the worker, before and after the driver's reset (a routing that fell
# back to KVM_SIGNAL_MSI binds nothing and relays every call).
grep -qE "virtio-vsock: irqfd: ([2-9]|[1-9][0-9]+) bindings, 0 backend calls through the worker" \
    "$T/vm1.err" || fail "vmm run: the backend's calls did not go through irqfds: $(cat "$T/vm1.err")"
bad="broke queue|virtio-vsock|VHOST|forbidden|KVM_SIGNAL_MSI"
! grep -v "virtio-vsock: irqfd: " "$T/vm1.err" | grep -qE "$bad" ||
    fail "vmm run: stderr: $(grep -E "$bad" "$T/vm1.err")"
echo "vmm run: both ways ok, again after a driver reset, a second VM with CID $cid refused"

# --- vmm serve: the VM in a confined worker, then in serve's process ----------
linux_initrd "$guest_part
echo \"guest: done\"
sleep 1000
vmm-exit 5"
vmcfg() {
    echo "config={\"vm\":{\"memory\":\"256M\",\"vcpus\":$LINUX_CPUS},\"boot\":{\"kernel\":\"$LINUX_KERNEL\",\"initrd\":\"$T/initrd\",\"cmdline\":\"$(linux_cmdline)\"},\"console\":{\"file\":\"$T/$1.console\"},\"vsock\":{\"cid\":$cid}}"
}
# serve_round WHAT N: the guest's Nth boot in lx.console echoes both ways
_lines() { [ "$(grep -c "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
serve_round() {
    wait_show=$T/lx.console
    wait_until 200 "$1: boot $2 listening" _lines "$T/lx.console" "listening on port 5000" "$2"
    host_to_guest "$1"
    wait_until 200 "$1: boot $2 done" _lines "$T/lx.console" "guest: done" "$2"
    [ "$(grep -c "guest: received $h_sum" "$T/lx.console")" = "$2" ] ||
        fail "$1: boot $2: $(cat "$T/lx.console")"
    [ "$(grep -c "guest: echoed back $g_sum" "$T/lx.console")" = "$2" ] ||
        fail "$1: boot $2: $(cat "$T/lx.console")"
    host_got "$1"
}
for workers in on off; do
    what="vmm serve --workers $workers"
    rm -f "$T/lx.console" "$T/lx2.console"
    host_listen
    VMM_SERVE_WORKERS=$workers serve_start
    ctl_ok vm-create name=lx start=true "$(vmcfg lx)"
    wait_for "$T/lx.console" "listening on port 5000" 200
    ctl_err "CID $cid is in use" vm-create name=lx2 start=true "$(vmcfg lx2)"
    [ "$(status_of lx)" = running ] || fail "$what: lx is not running after lx2 was refused"
    serve_round "$what" 1
    ctl_ok query-vm vm=lx
    grep -q "\"vsock\" *: *{ *\"cid\" *: *$cid *}" "$T/ctl.out" ||
        fail "$what: query-vm: $(cat "$T/ctl.out")"
    if [ "$workers" = on ]; then
        # The VM built again (a new worker): the old one's CID is free by then.
        host_listen
        ctl_ok system_reset vm=lx
        serve_round "$what, after system_reset" 2
        [ "$(status_of lx)" = running ] || fail "$what: lx is not running after system_reset"
    fi
    ! grep -qE "made forbidden|broke queue|virtio-vsock" "$T/serve.err" ||
        fail "$what: serve.err: $(cat "$T/serve.err")"
    serve_quit
    echo "$what: both ways ok, query-vm shows CID $cid, lx2 refused"
done
exit 0
