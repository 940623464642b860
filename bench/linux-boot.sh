#!/bin/sh
# Boot-time bench, run inside the nested test bed (tests/nested/run --bench
# ARCH): the bed's own Debian kernel with a busybox initramfs, 2 vCPUs,
# 256 MiB, "quiet". For vmm, and for QEMU (-accel kvm, -M microvm on
# x86_64) when the bed has it, alternately, BENCH_RUNS times each:
#   ms     wall time from starting the VMM to the line /init prints first
#   rss    the VMM's resident memory at that moment, KiB
#   guest  of which guest RAM (the largest mapping), KiB
#   own    rss - guest: what the VMM itself costs
# Prints one "BENCH: vmm|qemu ms rss guest own" line per run.
. /vmm/tests/integration/lib.sh
need_linux
BENCH_RUNS=${BENCH_RUNS:-3}
linux_initrd 'sleep 3; reboot -f'

. /vmm/bench/bed-lib.sh

# measure NAME CMD...: one run, one BENCH line
measure() {
    name=$1
    shift
    rm -f "$T/out"
    t0=$(uptime_cs)
    "$@" >"$T/out" 2>&1 </dev/null &
    pid=$!
    ms=
    # poll for /init's line for up to 120 s (10 ms resolution at best)
    while [ $(( $(uptime_cs) - t0 )) -lt 12000 ]; do
        if grep -q "init: up" "$T/out" 2>/dev/null; then
            ms=$(( ($(uptime_cs) - t0) * 10 ))
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    if [ -n "$ms" ]; then
        set -- $(rss_of "$pid")
        echo "BENCH: $name $ms $1 $2 $(($1 - $2))"
    else
        echo "BENCH: $name failed"
        tail -20 "$T/out" | sed 's/^/    /'
    fi
    # the guest reboots 3 s after /init starts; give it 60 s more
    t1=$(uptime_cs)
    while kill -0 "$pid" 2>/dev/null && [ $(( $(uptime_cs) - t1 )) -lt 6000 ]; do
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

case "$ARCH" in
    x86_64) con=ttyS0 ;;
    aarch64) con=ttyAMA0 ;;
esac
append="console=$con panic=-1 quiet"
qemu=
case "$ARCH" in
    x86_64) command -v qemu-system-x86_64 >/dev/null &&
        qemu="qemu-system-x86_64 -M microvm -accel kvm -cpu host" ;;
    aarch64) command -v qemu-system-aarch64 >/dev/null &&
        qemu="qemu-system-aarch64 -M virt,gic-version=3 -accel kvm -cpu host" ;;
esac
echo "BENCH: columns: vmm ms rss_kib guest_kib own_kib"
r=0
while [ $r -lt "$BENCH_RUNS" ]; do
    measure vmm "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus 2 \
        --memory 256M --append "$append"
    if [ -n "$qemu" ]; then
        # shellcheck disable=SC2086 # $qemu is a command line
        measure qemu $qemu -smp 2 -m 256M -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -kernel "$LINUX_KERNEL" -initrd "$T/initrd" \
            -append "$append"
    fi
    r=$((r + 1))
done
[ -n "$qemu" ] || echo "BENCH: qemu not in the bed"
