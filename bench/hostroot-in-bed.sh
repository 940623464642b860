#!/bin/sh
# Host-root bench (issue 12), inside the nested test bed (bench/run-hostroot):
# the time from starting the VMM to the first line a command prints when
# it runs under the bed's Debian kernel on the bed's own files, 2 vCPUs,
# 256 MiB:
#   vmm   vmm run --kernel K --host-root -- /bin/sh -c 'echo ...'
#         (the bed's / read-only over virtio-fs, vmm's generated initramfs
#         with vmm-init; virtiofsd started by vmm)
#   qemu  what virtme-ng does, by hand: virtiofsd on the bed's / started
#         first (in the measured time), then QEMU (-M microvm,pcie=on with
#         memfd guest RAM, vhost-user-fs-pci) booting with the share as its
#         root (rootfstype=virtiofs) and init=/bin/sh -c 'echo ...'
#         (x86_64 only: the arm64 bed has no QEMU)
# alternately, BENCH_RUNS times each. Also each VMM's memory beyond guest
# RAM at that line (vmm: with the console, RNG and the virtio-fs device;
# the daemons not counted). Prints per run:
#   BENCH-HR: vmm|qemu ms rss_kib guest_kib own_kib
. /vmm/tests/integration/lib.sh
need_linux
. /vmm/bench/bed-lib.sh
BENCH_RUNS=${BENCH_RUNS:-3}
line=hostroot-first-line
virtiofsd=${VMM_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}

case "$ARCH" in
    x86_64) con=ttyS0 ;;
    aarch64) con=ttyAMA0 ;;
esac
qemu=
[ "$ARCH" = x86_64 ] && command -v qemu-system-x86_64 >/dev/null && [ -x "$virtiofsd" ] &&
    qemu=yes

# measure NAME: one run of $NAME's command line (set by the caller in $@
# after NAME), one BENCH-HR line; $pre_pid (a daemon started for it) is
# ended with it
measure() {
    name=$1
    shift
    start_until "^$line" 12000 "$@"
    ms=
    [ -n "$found" ] && ms=$(( ($(uptime_cs) - t0) * 10 ))
    rss=
    [ -n "$ms" ] && rss=$(rss_of "$pid" 2>/dev/null)
    if [ -n "$rss" ]; then
        set -- $rss
        echo "BENCH-HR: $name $ms $1 ${2:-0} $(($1 - ${2:-0}))"
    else
        echo "BENCH-HR: $name failed"
        tail -20 "$T/out" | sed 's/^/    /'
    fi
    t1=$(uptime_cs)
    while kill -0 "$pid" 2>/dev/null && [ $(( $(uptime_cs) - t1 )) -lt 3000 ]; do
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -n "${pre_pid:-}" ]; then
        kill "$pre_pid" 2>/dev/null
        wait "$pre_pid" 2>/dev/null
        pre_pid=
    fi
}

echo "BENCH-HR: columns: vmm ms rss_kib guest_kib own_kib"
r=0
while [ $r -lt "$BENCH_RUNS" ]; do
    t0=$(uptime_cs)
    # from / (the working directory is the command's, and the test's is on
    # the guest's own /tmp)
    measure vmm sh -c 'cd / && exec "$@"' sh "$VMM" run --kernel "$LINUX_KERNEL" --cpus 2 \
        --memory 256M --host-root -- /bin/sh -c "echo $line; exit 0"
    if [ -n "$qemu" ]; then
        rm -f "$T/vfs.sock"
        t0=$(uptime_cs)
        # as vmm's own daemon in this bed: its chroot sandbox (/ is rootfs)
        "$virtiofsd" --socket-path="$T/vfs.sock" -o source=/ -o cache=auto \
            -o sandbox=chroot -o log_level=warn </dev/null >"$T/vfsd.out" 2>&1 &
        pre_pid=$!
        while [ ! -S "$T/vfs.sock" ] && kill -0 "$pre_pid" 2>/dev/null; do sleep 0.01; done
        measure qemu qemu-system-x86_64 -M microvm,pcie=on,memory-backend=mem \
            -object memory-backend-memfd,id=mem,size=256M,share=on \
            -accel kvm -cpu host -smp 2 -m 256M -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -chardev "socket,id=vfs,path=$T/vfs.sock" \
            -device vhost-user-fs-pci,chardev=vfs,tag=ROOT -kernel "$LINUX_KERNEL" \
            -append "console=$con panic=-1 quiet rootfstype=virtiofs root=ROOT ro init=/bin/sh -- -c \"echo $line; reboot -f\""
    fi
    r=$((r + 1))
done
[ -n "$qemu" ] || echo "BENCH-HR: qemu not in the bed"
