# Shared by the bench scripts that run inside the nested test bed
# (bench/linux-boot.sh, bench/io-in-bed.sh); sourced after lib.sh.

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
