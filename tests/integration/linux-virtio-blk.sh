#!/bin/sh
# nested-timeout: 420
# virtio-blk over PCI: Linux's virtio_blk driver (a module in Debian's
# kernels, loaded from the initramfs) sees two disks, vda read-write with
# a serial (from a config file's [[disk]]) and vdb read-only (--disk
# FILE,ro). The guest reads vda's known pattern (checksums on both
# sides), writes another at 1 MiB, syncs, and discards 64 KiB at 2 MiB
# when the host's file system lets vmm offer it; the host then finds
# exactly that in the file. vdb refuses writes and stays as it was. The
# image's last partial sector is not part of the disk.
#
# Then under vmm serve, its VMs in confined workers (the default) and in
# its own process (--workers off): a vm-create with a [[disk]] in its
# inline config sees what the first guest wrote and writes again, query-vm
# lists the disk, and a second VM asking for the same read-write image is
# refused while the first has it.
. "$(dirname "$0")/lib.sh"
need_linux
need_linux_module virtio_blk

MiB=1048576
img=$T/disk.img
rimg=$T/ro.img
yes "vmm-disk-pattern-0123456789" | head -c $((4 * MiB)) >"$img"
printf '%100s' tail >>"$img"           # 100 bytes past the last whole sector
yes "read-only-image" | head -c $((2 * MiB)) >"$rimg"
cp "$img" "$T/disk.orig"
cp "$rimg" "$T/ro.orig"
sum() { md5sum | cut -d' ' -f1; }
vda_sum=$(head -c $((4 * MiB)) "$img" | sum)
w1_sum=$(yes guest-wrote-this | head -c 65536 | sum)
w2_sum=$(yes second-guest-here | head -c 65536 | sum)

cat >"$T/disks.toml" <<EOF
[[disk]]
path = "$img"
serial = "vmm-test-0001"
EOF

linux_initrd 'sum() { md5sum | cut -d" " -f1; }
for d in vda vdb; do
    echo "$d: size $(cat /sys/block/$d/size) ro $(cat /sys/block/$d/ro) serial [$(cat /sys/block/$d/serial)]"
done
echo "vda sum: $(sum </dev/vda)"
yes guest-wrote-this | head -c 65536 >/tmp/w
dd if=/tmp/w of=/dev/vda bs=4096 seek=256 conv=fsync 2>/dev/null && echo "vda write: ok"
if [ "$(cat /sys/block/vda/queue/discard_max_bytes)" = 0 ]; then
    echo "vda discard: not offered"
elif ! command -v blkdiscard >/dev/null; then
    echo "vda discard: no blkdiscard"
else
    blkdiscard -o 2097152 -l 65536 /dev/vda && echo "vda discard: ok" || echo "vda discard: failed"
fi
sync
echo 3 >/proc/sys/vm/drop_caches
echo "vda readback: $(dd if=/dev/vda bs=4096 skip=256 count=16 2>/dev/null | sum)"
dd if=/tmp/w of=/dev/vdb bs=4096 count=1 conv=fsync 2>/dev/null && echo "vdb write: accepted" ||
    echo "vdb write: refused"
echo "vdb sum: $(sum </dev/vdb)"
vmm-exit 0'
LINUX_APPEND=loglevel=4 VMM_TIMEOUT=200 vmm_linux "$T/disks.toml" --disk "$rimg,ro"
expect_stdout_has "init: up"
expect_stdout_lacks "insmod virtio_blk failed"
expect_stdout_has "vda: size 8192 ro 0 serial [vmm-test-0001]"
expect_stdout_has "vdb: size 4096 ro 1 serial []"
expect_stdout_has "vda sum: $vda_sum"
expect_stdout_has "vda write: ok"
expect_stdout_has "vda readback: $w1_sum"
expect_stdout_has "vdb write: refused"
expect_stdout_has "vdb sum: $(sum <"$rimg")"
bad="broke queue|KVM_IRQ_LINE|KVM_IOEVENTFD|KVM_SIGNAL_MSI|virtio-blk|forbidden"
! grep -qE "$bad" "$T/stderr" || fail "stderr: $(grep -E "$bad" "$T/stderr")"
expect_status 0

# The host's view: the pattern, the guest's write at 1 MiB, zeros where it
# discarded, the tail untouched; the read-only image as it was.
yes guest-wrote-this | head -c 65536 |
    dd of="$T/disk.orig" bs=4096 seek=256 conv=notrunc 2>/dev/null
if grep -q "vda discard: ok" "$T/stdout"; then
    head -c 65536 /dev/zero | dd of="$T/disk.orig" bs=4096 seek=512 conv=notrunc 2>/dev/null
else
    grep -q "vda discard: not offered\|vda discard: no blkdiscard" "$T/stdout" ||
        fail "discard: $(grep "vda discard" "$T/stdout")"
fi
cmp "$img" "$T/disk.orig" || fail "the image is not what the guest wrote"
cmp "$rimg" "$T/ro.orig" || fail "the read-only image changed"
echo "run: $(grep "vda discard" "$T/stdout")"

# What is not a disk image is refused when the VM is built, naming it.
mkfifo "$T/fifo"
mkdir "$T/dir"
for bad in "$T/fifo:a FIFO" "$T/dir,ro:a directory" "/dev/null:a character device" \
    "$T/missing.img:No such file"; do
    VMM_TIMEOUT=60 vmm_linux --disk "${bad%%:*}"
    expect_status 125
    expect_stderr_has "disk ${bad%%[,:]*}: ${bad#*:}"
done

# --- the same image under vmm serve, in a worker ------------------------------
linux_initrd 'sum() { md5sum | cut -d" " -f1; }
echo "vda: serial [$(cat /sys/block/vda/serial)]"
echo "vda earlier: $(dd if=/dev/vda bs=4096 skip=256 count=16 2>/dev/null | sum)"
yes second-guest-here | head -c 65536 >/tmp/w
dd if=/tmp/w of=/dev/vda bs=4096 seek=768 conv=fsync 2>/dev/null && echo "vda write: ok"
sync
echo "guest: done"
sleep 1000
vmm-exit 5'
vmcfg() {
    echo "config={\"vm\":{\"memory\":\"256M\",\"vcpus\":$LINUX_CPUS},\"boot\":{\"kernel\":\"$LINUX_KERNEL\",\"initrd\":\"$T/initrd\",\"cmdline\":\"$(linux_cmdline)\"},\"console\":{\"file\":\"$T/$1.console\"},\"disk\":[{\"path\":\"$img\",\"serial\":\"served-disk\"}]}"
}
# Workers on (the default: the VM in a confined worker), then off (the VM
# in vmm serve's own process, under serve's seccomp list).
for workers in on off; do
    VMM_SERVE_WORKERS=$workers serve_start
    ctl_ok vm-create name=lx start=true "$(vmcfg lx)"
    wait_for "$T/lx.console" "guest: done" 200
    grep -q "vda: serial \[served-disk\]" "$T/lx.console" || fail "workers $workers: serial: $(cat "$T/lx.console")"
    grep -q "vda earlier: $w1_sum" "$T/lx.console" ||
        fail "workers $workers: the first write is not seen: $(cat "$T/lx.console")"
    grep -q "vda write: ok" "$T/lx.console" || fail "workers $workers: write: $(cat "$T/lx.console")"
    ctl_ok query-vm vm=lx
    grep -q "\"disks\" *: *\[{\"path\" *: *\"$img\", *\"readonly\" *: *false, *\"serial\" *: *\"served-disk\"}\]" "$T/ctl.out" ||
        fail "workers $workers: query-vm: $(cat "$T/ctl.out")"
    ctl_err "in use" vm-create name=lx2 start=true "$(vmcfg lx2)"
    grep -qF "$img" "$T/ctl.err" || fail "workers $workers: the refusal does not name the image: $(cat "$T/ctl.err")"
    [ "$(status_of lx)" = running ] || fail "workers $workers: lx is not running"
    ! grep -q "made forbidden" "$T/serve.err" || fail "workers $workers: serve.err: $(cat "$T/serve.err")"
    serve_quit
    [ "$(dd if="$img" bs=4096 skip=768 count=16 2>/dev/null | sum)" = "$w2_sum" ] ||
        fail "workers $workers: the served guest's write is not in the image"
    echo "serve --workers $workers: ok"
    dd if=/dev/zero of="$img" bs=4096 seek=768 count=16 conv=notrunc 2>/dev/null
    rm -f "$T/lx.console" "$T/lx2.console"
done
exit 0
