#!/bin/sh
# SIGTERM to vmm running a guest that spins: an orderly stop, a message
# saying so and where the vCPU was (inside the firmware's spin loop),
# status 143
. "$(dirname "$0")/lib.sh"
need_kvm
cmdline="vmm run $CONFIGS/spin.toml, SIGTERM"
"$VMM" run "$CONFIGS/spin.toml" >"$T/stdout" 2>"$T/stderr" </dev/null &
pid=$!
# wait for the vCPU thread(s), up to 10 s (scaled), then let it spin a second
threads() { set -- "/proc/$pid/task/"*; echo $#; }
end=$(($(now) + $(scaled 10)))
while [ "$(now)" -lt "$end" ] && [ -d "/proc/$pid" ] && [ "$(threads)" -lt 2 ]; do
    sleep 0.1
done
sleep 1
if ! kill -TERM "$pid" 2>/dev/null; then
    wait "$pid"
    status=$?
    fail "vmm ended before SIGTERM"
fi
( sleep "$(scaled 20)"; kill -KILL "$pid" 2>/dev/null ) &
wd=$!
wait "$pid"
status=$?
kill "$wd" 2>/dev/null
expect_status 143
expect_stderr_has stopped
# "(vCPU 0 at rip 10003a)": in the firmware, linked 1 MiB into RAM (< 64 KiB)
pc=$(sed -nE 's/.*\(vCPU 0 at (rip|pc) ([0-9a-f]+)\).*/\2/p' "$T/stderr")
[ -n "$pc" ] || fail "stderr does not say where vCPU 0 was"
lo=$(load_addr)
[ $((0x$pc)) -ge "$lo" ] && [ $((0x$pc)) -lt $((lo + 0x10000)) ] ||
    fail "vCPU 0 at $pc: not in the firmware's spin loop"
