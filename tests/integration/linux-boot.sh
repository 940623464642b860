#!/bin/sh
# nested-timeout: 240
# Linux boots with a busybox initramfs: the console shows the kernel's boot
# log, init sees 2 CPUs and the configured memory, and the status a test
# command exits with (5) becomes vmm's.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "nproc=$(nproc)"
echo "memtotal=$(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo)"
sh -c "exit 5"; vmm-exit $?'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=200 vmm_linux --cpus 2
expect_stdout_has "Linux version"
expect_stdout_has "init: up"
expect_stdout_has "nproc=2"
expect_status 5
mem=$(sed -n 's/^memtotal=//p' "$T/stdout" | tr -d '\r')
# MemTotal is RAM less what the kernel keeps: within 200-256 MiB of 256 MiB
[ -n "$mem" ] && [ "$mem" -gt $((200 * 1024)) ] && [ "$mem" -le $((256 * 1024)) ] ||
    fail "MemTotal $mem kB does not match 256 MiB"
