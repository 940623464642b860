#!/bin/sh
# nested-timeout: 300
# Linux with 4 vCPUs (more than the bed's 2 CPUs) and the virtio devices:
# every vmm thread runs under its seccomp list, and none may trip it however
# many threads there are (glibc's malloc looks up the CPU count, in /sys,
# the first time a thread needs an arena beyond its eighth: vmm fixes the
# arena count before any filter is in place).
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "nproc=$(nproc)"
vmm-exit 0'
VMM_TIMEOUT=250 vmm_linux --cpus 4
expect_stdout_has "init: up"
expect_stdout_has "nproc=4"
! grep -qF seccomp "$T/stderr" || fail "stderr: $(grep -F seccomp "$T/stderr" | head -n 1)"
expect_status 0
