#!/bin/sh
# query-hypercall-stats counts what the calls firmware did: allowed and
# refused calls per entry, and the bad ucall doorbells it rang, which were
# refused before they named any call
. "$(dirname "$0")/lib.sh"
need_kvm
serve_start
events_start
ctl_ok vm-create name=c "config=$CONFIGS/calls-all.toml"
ctl_ok vm-start vm=c
wait_for "$T/events" '"event":"SHUTDOWN","data":{"vm":"c"'
ctl_ok query-hypercall-stats vm=c
# x86_64's doorbell carries a page number: the firmware's "+64" doorbell
# names its own structure there and is a valid call (the narrow write is
# refused on both)
case "$ARCH" in x86_64) bad=5 ;; aarch64) bad=6 ;; esac
row() { grep -o "{\"call\":\"$1\"[^}]*}" "$T/ctl.out"; }
row ucall-doorbell | grep -q "\"total\":$bad," ||
    fail "expected $bad refused doorbells: $(cat "$T/ctl.out")"
row version | grep -q '"allowed":[1-9]' || fail "no allowed version call counted: $(row version)"
row vm-query | grep -q '"service-only":[1-9]' || fail "no service-only vm-query counted: $(row vm-query)"
serve_quit
