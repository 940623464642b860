#!/bin/sh
# A config that is not a regular file (a FIFO nobody writes to, a device)
# is refused at once with one line and 125; before, vmm blocked in open()
# on the FIFO for ever. A file not named *.toml is never quoted in errors.
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034 # read by lib.sh's vmm()
VMM_TIMEOUT=10
mkfifo "$T/fifo.toml" || fail "mkfifo"
expect_config_error "$T/fifo.toml" "not a regular file"
expect_config_error --no-file /dev/zero "not a regular file"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$T/passwd"
expect_config_error "$T/passwd" "not shown"
! grep -q "root" "$T/stderr" || fail "a file not named .toml was quoted: $(cat "$T/stderr")"
exit 0
