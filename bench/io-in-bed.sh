#!/bin/sh
# I/O bench (issue 12), inside the nested test bed (bench/run-io): the
# bed's Debian kernel and a busybox initramfs, 2 vCPUs, 256 MiB, a raw
# image of BENCH_MIB MiB (default 64) on the bed's own memory-backed root,
# and every other device on: vmm with its console and RNG, a vsock (CID 3)
# and a read-only virtio-fs share of /vmm/bench (its virtiofsd is a process
# of its own, not counted); QEMU with a vsock (vhost-vsock-pci, CID 4).
# The guest times, from its /proc/uptime, a sequential read of the whole
# disk and then a sequential write of it, 1 MiB blocks with O_DIRECT (no
# guest page cache in the way). For vmm (virtio-blk over PCI) and, when
# the bed has it, QEMU (-M microvm,pcie=on, virtio-blk-pci on the same
# image), alternately, BENCH_RUNS times each. At the guest's result line
# it also takes the VMM's memory beyond guest RAM, with every device the
# run has on. Prints per run:
#   BENCH-IO: vmm|qemu read_ms write_ms rss_kib guest_kib own_kib
. /vmm/tests/integration/lib.sh
need_linux
need_linux_module virtio_blk
. /vmm/bench/bed-lib.sh
BENCH_RUNS=${BENCH_RUNS:-3}
mib=${BENCH_MIB:-64}

linux_initrd 'ms() { awk "{ printf \"%d\", \$1 * 1000 }" /proc/uptime; }
n=$(($(cat /sys/block/vda/size) / 2048))
t0=$(ms)
dd if=/dev/vda of=/dev/null bs=1M count=$n iflag=direct 2>/tmp/dd || cat /tmp/dd
t1=$(ms)
dd if=/dev/zero of=/dev/vda bs=1M count=$n oflag=direct conv=fsync 2>/tmp/dd || cat /tmp/dd
t2=$(ms)
echo "IO: $((t1 - t0)) $((t2 - t1)) $n"
sleep 600 # the bench takes the VMM'"'"'s memory now, then ends it
reboot -f'

img=$T/disk.img
head -c $((mib * 1048576)) /dev/urandom >"$img" || fail "no image"

case "$ARCH" in
    x86_64) con=ttyS0 ;;
    aarch64) con=ttyAMA0 ;;
esac
append="console=$con panic=-1 quiet"
qemu=
[ "$ARCH" = x86_64 ] && command -v qemu-system-x86_64 >/dev/null &&
    qemu="qemu-system-x86_64 -M microvm,pcie=on -accel kvm -cpu host"

# measure NAME CMD...: one run, one BENCH-IO line
measure() {
    name=$1
    shift
    start_until "^IO: " 60000 "$@"
    line=$found
    rss=
    [ -n "$line" ] && rss=$(rss_of "$pid" 2>/dev/null)
    if [ -n "$rss" ]; then
        set -- $line
        rd=${2:-0} wr=${3:-0}
        set -- $rss
        echo "BENCH-IO: $name $rd $wr $1 ${2:-0} $(($1 - ${2:-0}))"
    else
        echo "BENCH-IO: $name failed"
        tail -20 "$T/out" | sed 's/^/    /'
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

echo "BENCH-IO: columns: vmm read_ms write_ms rss_kib guest_kib own_kib ($mib MiB)"
r=0
while [ $r -lt "$BENCH_RUNS" ]; do
    measure vmm "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus 2 \
        --memory 256M --append "$append" --disk "$img" --vsock 3 --share /vmm/bench:bench,ro
    if [ -n "$qemu" ]; then
        # shellcheck disable=SC2086 # $qemu is a command line
        measure qemu $qemu -smp 2 -m 256M -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -kernel "$LINUX_KERNEL" -initrd "$T/initrd" \
            -append "$append" -drive "if=none,id=d0,file=$img,format=raw" \
            -device virtio-blk-pci,drive=d0 -device vhost-vsock-pci,guest-cid=4
    fi
    r=$((r + 1))
done
[ -n "$qemu" ] || echo "BENCH-IO: qemu not in the bed"
