#!/bin/sh
# Boot-time bench, run inside the nested test bed (tests/nested/run --bench
# ARCH, or bench/run-boot): the bed's own Debian kernel with a busybox
# initramfs, BENCH_CPUS vCPUs (default 2), 256 MiB, "quiet". For vmm, for
# QEMU (-accel kvm; -M microvm on x86_64, -M virt with the host's GIC on
# aarch64) when the bed has it, and for
# kvmtool when the bed has /vmm/bench-bin/lkvm (bench/run-boot packs it),
# in turn, BENCH_RUNS times each:
#   ms     wall time from starting the VMM to the line /init prints first
#   rss    the VMM's resident memory at that moment, KiB
#   guest  of which guest RAM (the largest mapping), KiB
#   own    rss - guest: what the VMM itself costs
#   cpus   how many CPUs the guest brought up (its /sys/.../cpu/online)
# Prints one "BENCH: vmm|qemu|kvmtool ms rss guest own cpus" line per run.
. /vmm/tests/integration/lib.sh
need_linux
BENCH_RUNS=${BENCH_RUNS:-3}
# (with fewer CPUs up than asked for, the kernel's word on them)
linux_initrd 'on=$(cat /sys/devices/system/cpu/online); echo "init: cpus online $on"
[ "$on" = 0 ] && dmesg | grep -i -m 6 "smp\|cpu1\|mp-bios\|mptable\|madt" | sed "s/^/init: dmesg: /"
sleep 3; reboot -f'

. /vmm/bench/bed-lib.sh

# measure NAME CMD...: one run, one BENCH line
measure() {
    name=$1
    shift
    t0=$(uptime_cs)
    # /init's line within 300 s times the bed's slowness (a loaded aarch64
    # bed has taken 120 s), 10 ms resolution at best
    start_until "init: up" 30000 "$@"
    ms=
    [ -n "$found" ] && ms=$(( ($(uptime_cs) - t0) * 10 ))
    [ -n "$ms" ] && set -- $(rss_of "$pid")
    # the guest reboots 3 s after /init starts; give it 60 s more
    t1=$(uptime_cs)
    while kill -0 "$pid" 2>/dev/null && [ $(( $(uptime_cs) - t1 )) -lt 6000 ]; do
        sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ -n "$ms" ]; then
        # "0-1", "0", "0-1,3": counted
        online=$(sed -n 's/.*init: cpus online \([0-9,-]*\).*/\1/p' "$T/out" | head -n 1)
        up=$(echo "$online" | tr ',' '\n' | awk -F- 'NF { n += (NF == 2 ? $2 - $1 + 1 : 1) } END { print n + 0 }')
        echo "BENCH: $name $ms $1 $2 $(($1 - $2)) $up"
        [ "$up" -lt "$cpus" ] &&
            grep 'init: dmesg: ' "$T/out" | head -n 6 | sed "s/^.*init: dmesg: /BENCH-NOTE: $name: /"
    else
        echo "BENCH: $name failed"
        tail -20 "$T/out" | sed 's/^/    /'
    fi
}

append="console=$con panic=-1 quiet" # $con, $qemu: bed-lib.sh
# kvmtool makes its own console= (its 8250 UART on both arches), and no
# network device (its default is one in user mode: vmm and QEMU have none)
# (and on arm64 the bed's GICv3: kvmtool's default is a GICv2)
kvmtool= kvmtool_arch=
[ -x /vmm/bench-bin/lkvm ] && kvmtool=/vmm/bench-bin/lkvm
[ "$ARCH" = aarch64 ] && kvmtool_arch="--irqchip gicv3"
cpus=${BENCH_CPUS:-2}
echo "BENCH: columns: vmm ms rss_kib guest_kib own_kib cpus_up (of $cpus)"
r=0
while [ $r -lt "$BENCH_RUNS" ]; do
    measure vmm "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus "$cpus" \
        --memory 256M --append "$append"
    if [ -n "$qemu" ]; then
        # shellcheck disable=SC2086 # $qemu is a command line
        measure qemu $qemu -smp "$cpus" -m 256M -nodefaults -no-user-config -display none \
            -serial stdio -no-reboot -kernel "$LINUX_KERNEL" -initrd "$T/initrd" \
            -append "$append"
    fi
    if [ -n "$kvmtool" ]; then
        # shellcheck disable=SC2086 # $kvmtool_arch: words
        measure kvmtool env HOME="$T" "$kvmtool" run -k "$LINUX_KERNEL" -i "$T/initrd" \
            -c "$cpus" -m 256 -p "panic=-1 quiet" --network mode=none $kvmtool_arch
    fi
    r=$((r + 1))
done
[ -n "$qemu" ] || echo "BENCH: qemu not in the bed"
[ -n "$kvmtool" ] || echo "BENCH: kvmtool not in the bed (bench/run-boot packs it)"
