#!/bin/sh
# lib.sh's waits (no KVM needed): each returns as soon as its event
# happens, and one whose event never comes ends at its limit times VMM_SLOW,
# saying what it waited for and what the file held.
. "$(dirname "$0")/lib.sh"
cmdline=
( sleep 1; echo "ready 42" >"$T/later.tmp"; mv "$T/later.tmp" "$T/later" ) &
wait_for_file "$T/later" 30
wait_for_line "$T/later" '^ready [0-9]+$' 1
wait_for "$T/later" "ready 42" 1

# a wait that cannot end well, in a script of its own (fail exits)
cat >"$T/never.sh" <<EOT
. "$TESTDIR/lib.sh"
wait_for_line "$T/later" '^never\$' 1
echo "the wait returned"
EOT
t0=$(now)
VMM_SLOW=2 sh "$T/never.sh" >"$T/never.out" 2>&1 && fail "a wait for a line that never comes succeeded: $(cat "$T/never.out")"
el=$(($(now) - t0))
[ "$el" -ge 1 ] && [ "$el" -le 10 ] || fail "a 2 s wait (1 s times VMM_SLOW=2) took $el s"
grep -qF "waited 2 s for a line matching '^never\$' in $T/later" "$T/never.out" ||
    fail "the failure does not say what it waited for: $(cat "$T/never.out")"
grep -qF "has: ready 42" "$T/never.out" || fail "the failure does not show the file: $(cat "$T/never.out")"
grep -q "the wait returned" "$T/never.out" && fail "the script went on after the failed wait"
exit 0
