#!/bin/sh
# Guest RAM is left out of core dumps: the mapping of a running guest's RAM
# (72 MiB here, a size nothing else in vmm maps) has the "dd" (do not dump)
# flag in /proc/PID/smaps, under vmm run and vmm serve.
. "$(dirname "$0")/lib.sh"
need_kvm
printf '[vm]\nmemory = "72M"\nvcpus = 1\n\n[boot]\nfirmware = "spin"\n' >"$T/spin72.toml"

# ram_flags PID: the VmFlags of PID's mappings of exactly 72 MiB
ram_flags() {
    awk '/^[0-9a-f]+-[0-9a-f]+ / { size = 0 }
         /^Size:/ { size = $2 }
         /^VmFlags:/ && size == 73728 { print }' "/proc/$1/smaps"
}

# check PID WHAT: exactly one 72 MiB mapping, and it is marked dd
check() {
    ram_flags "$1" >"$T/flags"
    cat "$T/flags"
    n=$(grep -c '' "$T/flags")
    [ "$n" = 1 ] || fail "$2: $n mappings of 72 MiB, expected one (guest RAM)"
    grep -qw dd "$T/flags" || fail "$2: guest RAM is not excluded from core dumps (no dd in VmFlags)"
}

cmdline="vmm run spin72.toml"
"$VMM" run "$T/spin72.toml" >"$T/stdout" 2>"$T/stderr" </dev/null &
pid=$!
i=0
until grep -q spinning "$T/stdout"; do
    if [ ! -d "/proc/$pid" ] || [ "$i" -ge 300 ]; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid"
        status=$?
        fail "the guest did not start spinning"
    fi
    sleep 0.1
    i=$((i + 1))
done
check "$pid" "vmm run"
kill -KILL "$pid" 2>/dev/null
wait "$pid"

# vmm serve: the VM in a worker process (the default), then in vmm serve's own
serve_start
ctl_ok vm-create name=s config="$T/spin72.toml" start=true
wait_for "$T/serve.out" spinning
w=$(serve_workers)
[ -n "$w" ] || fail "vmm serve: no worker"
check "$w" "vmm serve's worker"
serve_quit
VMM_SERVE_WORKERS=off serve_start
ctl_ok vm-create name=s config="$T/spin72.toml" start=true
wait_for "$T/serve.out" spinning
check "$serve_pid" "vmm serve --workers off"
serve_quit
