#!/bin/sh
# bad arguments: an unknown command, or "run" without a config: status 125 and
# a message on stderr
. "$(dirname "$0")/lib.sh"
need_vmm
vmm no-such-command
expect_status 125
[ -s "$T/stderr" ] || fail "nothing on stderr"
vmm run
expect_status 125
[ -s "$T/stderr" ] || fail "nothing on stderr"
