# Shared by the bench scripts that run inside the nested test bed
# (bench/*-in-bed.sh, bench/linux-boot.sh); sourced after lib.sh.

# uptime_cs: centiseconds since the bed booted
uptime_cs() {
    read -r up _ </proc/uptime
    echo "${up%.*}${up#*.}" | sed 's/^0*//; s/^$/0/'
}

# rss_of PID: "total guest" KiB: VmRSS, and the Rss of the largest mapping
rss_of() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { inmap = 1 }
         /^Size:/ { size = $2 }
         /^Rss:/ { total += $2; if (size > big) { big = size; bigrss = $2 } }
         END { print total, bigrss }' "/proc/$1/smaps"
}

# start_until PATTERN CS CMD...: CMD in the background, its output in
# $T/out and its pid in $pid, until a line of that output matches PATTERN
# (grep -E; $found is then the last such line, else empty) or CMD ends,
# for at most CS centiseconds times the bed's slowness
start_until() {
    _pat=$1 _cs=$2
    shift 2
    rm -f "$T/out"
    _s0=$(uptime_cs)
    "$@" >"$T/out" 2>&1 </dev/null &
    pid=$!
    found=
    while [ $(( $(uptime_cs) - _s0 )) -lt "$(scaled "$_cs")" ]; do
        found=$(grep -aE -- "$_pat" "$T/out" 2>/dev/null | tail -n 1)
        [ -n "$found" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
}

# The guest console for a Linux boot ($con), and QEMU's machine as the boot
# and memory benches run it, when the bed has QEMU ($qemu, words; empty
# without): microvm on x86_64, virt with the host's GIC on aarch64
case "$ARCH" in
    x86_64) con=ttyS0 ;;
    aarch64) con=ttyAMA0 ;;
esac
qemu=
case "$ARCH" in
    x86_64) command -v qemu-system-x86_64 >/dev/null &&
        qemu="qemu-system-x86_64 -M microvm -accel kvm -cpu host" ;;
    aarch64) command -v qemu-system-aarch64 >/dev/null &&
        qemu="qemu-system-aarch64 -M virt,gic-version=host -accel kvm -cpu host" ;;
esac
