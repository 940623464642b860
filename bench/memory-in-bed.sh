#!/bin/sh
# Where a VMM's memory beyond guest RAM goes, inside the nested test bed
# (bench/run-memory packs this): the bed's kernel with a busybox initramfs,
# BENCH_CPUS vCPUs (default 2), 256 MiB, "quiet", the console only as far
# as the VMM lets one choose. Once /init has printed its first line, the
# VMM's /proc/PID/smaps is summed by kind of mapping:
#   guest   the largest mapping (guest RAM)
#   binary  the VMM's own executable
#   lib:N   each shared library and the dynamic loader (N without its
#           folder and version)
#   heap    the brk heap (malloc's main arena)
#   anon    other anonymous memory: thread stacks, malloc's per-thread
#           arenas, buffers a VMM maps itself
#   kvm     the vCPUs' kvm_run pages and other anon_inode mappings
#   stack   the main thread's stack
#   memfd   memfds other than guest RAM
#   file:N  each other file mapped (N without its folder)
#   other   vdso, vvar and the like
# and a "MEM-BIG: NAME anon mapping of SIZE KiB, RSS KiB resident" line for
# each anonymous mapping other than guest RAM with 4 MiB or more resident.
# The same for QEMU (as bench/linux-boot.sh runs it) when the bed has it.
# Prints "MEM: vmm|qemu|kvmtool KIND rss_kib private_kib anonymous_kib" lines and a
# "MEM: NAME total ..." line beyond guest RAM, and the threads' count:
#   rss      resident (file pages count once mapped, and the kernel maps
#            neighbours of a touched page too: fault-around)
#   private  resident and mapped by no other process
#   anonymous  pages of no file (heaps, stacks, a library's data once
#            written, relocations): what this process alone costs. File
#            pages are shared by every process that maps the file (on a
#            disk, the kernel may drop and re-read them). The bed's files
#            are in RAM (its root is an initramfs), so there "private"
#            counts a library's code too, as no other process maps it.
. /vmm/tests/integration/lib.sh
need_linux
linux_initrd 'sleep 30; reboot -f'
. /vmm/bench/bed-lib.sh

breakdown() {
    awk -v who="$1" '
        function flush() {
            if (cat == "") return
            rss[cat] += r; priv[cat] += p; anonymous[cat] += d
            if (size > bigsize) { bigsize = size; bigcat = cat; bigrss = r; bigpriv = p; biganon = d }
            if (cat == "anon" && r >= 4096) { nbig++; bsize[nbig] = size; brss[nbig] = r }
        }
        /^[0-9a-f]+-[0-9a-f]+ / {
            flush()
            path = $6
            for (i = 7; i <= NF; i++) path = path " " $i
            if (path == "") cat = "anon"
            else if (path == "[heap]") cat = "heap"
            else if (path == "[stack]") cat = "stack"
            else if (path ~ /^\/memfd:/) cat = "memfd"
            else if (path ~ /^anon_inode:/) cat = "kvm"
            else if (path ~ /\.so(\.[0-9]+)*$/) {
                n = path; sub(/.*\//, "", n); sub(/\.so.*/, "", n); cat = "lib:" n
            } else if (path == exe) cat = "binary"
            else if (path ~ /^\[/) cat = "other"
            else { n = path; sub(/.*\//, "", n); cat = "file:" n }
            r = 0; p = 0; d = 0; size = 0
            next
        }
        /^Size:/ { size = $2 }
        /^Rss:/ { r = $2 }
        /^Private_(Clean|Dirty):/ { p += $2 }
        /^Anonymous:/ { d += $2 }
        END {
            flush()
            # the largest mapping is guest RAM, whatever its kind
            rss[bigcat] -= bigrss; priv[bigcat] -= bigpriv; anonymous[bigcat] -= biganon
            printf "MEM: %s guest %d %d %d\n", who, bigrss, bigpriv, biganon
            for (c in rss) {
                if (rss[c] == 0 && priv[c] == 0) continue
                printf "MEM: %s %s %d %d %d\n", who, c, rss[c], priv[c], anonymous[c]
                tr += rss[c]; tp += priv[c]; td += anonymous[c]
            }
            printf "MEM: %s total %d %d %d\n", who, tr, tp, td
            for (i = 1; i <= nbig; i++)
                if (bsize[i] != bigsize)
                    printf "MEM-BIG: %s anon mapping of %d KiB, %d KiB resident\n", who, bsize[i], brss[i]
        }' exe="$(readlink "/proc/$2/exe")" "/proc/$2/smaps"
    echo "MEM: $1 threads $(ls "/proc/$2/task" | wc -l)"
}

# measure NAME CMD...: boot, wait for /init's first line, sum up, stop
measure() {
    name=$1
    shift
    start_until "init: up" 30000 "$@"
    if [ -n "$found" ]; then
        # env execs the VMM: the pid is the VMM's by now
        breakdown "$name" "$pid"
    else
        echo "MEM: $name failed"
        tail -20 "$T/out" | sed 's/^/    /'
        rc=1
    fi
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

cpus=${BENCH_CPUS:-2}
measure vmm "$VMM" run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus "$cpus" \
    --memory 256M --append "console=$con panic=-1 quiet"
# QEMU as bench/linux-boot.sh runs it, when the bed has it ($qemu: bed-lib.sh)
if [ -n "$qemu" ]; then
    # shellcheck disable=SC2086 # $qemu is a command line
    measure qemu $qemu -smp "$cpus" -m 256M -nodefaults -no-user-config -display none \
        -serial stdio -no-reboot -kernel "$LINUX_KERNEL" -initrd "$T/initrd" \
        -append "console=$con panic=-1 quiet"
else
    echo "MEM: qemu not in the bed"
fi
if [ -x /vmm/bench-bin/lkvm ]; then
    kvmtool_arch=
    [ "$ARCH" = aarch64 ] && kvmtool_arch="--irqchip gicv3"
    # shellcheck disable=SC2086 # $kvmtool_arch: words
    measure kvmtool env HOME="$T" /vmm/bench-bin/lkvm run -k "$LINUX_KERNEL" -i "$T/initrd" \
        -c "$cpus" -m 256 -p "panic=-1 quiet" --network mode=none $kvmtool_arch
else
    echo "MEM: kvmtool not in the bed (bench/run-memory packs it)"
fi
exit "${rc:-0}"
