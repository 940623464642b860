#!/bin/sh
# The QMP wire protocol over a real socket, spoken raw by a test client
# (python3; skipped where there is none, as in the nested bed): greeting,
# negotiation, frames split and coalesced, bad JSON, oversize, many clients,
# a client vanishing mid-command. Needs no KVM.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3"
serve_start
cmdline="qmp-protocol.py"
python3 "$TESTDIR/qmp-protocol.py" "$QMP_SOCK" >"$T/stdout" 2>"$T/stderr" || fail "protocol checks failed"
serve_quit
