#!/bin/sh
# nested-timeout: 120
# --timeout stops a Linux guest that spins: status 124 and one line saying so
# and where each vCPU was.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'echo "init: spinning"; while :; do :; done'
VMM_TIMEOUT=100 vmm_linux --timeout 8
expect_status 124
n=$(grep -c '' "$T/stderr")
[ "$n" = 1 ] || fail "$n lines on stderr, expected one"
expect_stderr_has "timeout"
want="vCPU 0 at (rip|pc) [0-9a-f]+"
[ "$LINUX_CPUS" -ge 2 ] && want="$want, vCPU 1 at (rip|pc) [0-9a-f]+"
grep -qE "\($want\)" "$T/stderr" || fail "the timeout's line does not say where each vCPU was"
