#!/bin/sh
# nested-timeout: 300
# A Linux guest with its virtio devices under vmm serve's confined worker
# (the default): it boots, writes to hvc0 and reads the virtio RNG (so the
# device workers, started with the VM before the worker confined itself,
# have woken and adopted the sandbox) and runs on; every thread of its
# worker has no capabilities, a seccomp filter and nobody's uid (when
# root) while the guest runs, and nothing crashed.
. "$(dirname "$0")/lib.sh"
need_linux
need_linux_module virtio-rng
linux_initrd 'echo "hvc0 says hello" >/dev/hvc0
echo "hwrng bytes: $(head -c 512 /dev/hwrng | wc -c)"
echo "guest: ready"
sleep 1000
vmm-exit 5'
serve_start
events_start
ctl_ok vm-create name=lx start=true "config={\"vm\":{\"memory\":\"256M\",\"vcpus\":$LINUX_CPUS},\"boot\":{\"kernel\":\"$LINUX_KERNEL\",\"initrd\":\"$T/initrd\",\"cmdline\":\"$(linux_cmdline)\"},\"console\":{\"file\":\"$T/lx.console\"}}"
wait_for "$T/lx.console" "guest: ready" 200
grep -q "hvc0 says hello" "$T/lx.console" || fail "no hvc0 line: $(cat "$T/lx.console")"
grep -q "hwrng bytes: 512" "$T/lx.console" || fail "no RNG bytes: $(cat "$T/lx.console")"
w=$(worker_of lx)
[ -n "$w" ] || fail "no worker has lx's console open"
nobody=$(id -u nobody 2>/dev/null || echo 65534)
n=0
for t in /proc/$w/task/*; do
    comm=$(cat "$t/comm")
    [ "$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status")" = 0000000000000000 ] ||
        fail "worker thread $comm keeps capabilities"
    [ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] || fail "worker thread $comm: no filter"
    if [ "$(id -u)" = 0 ]; then
        set -- $(sed -n 's/^Uid:[[:space:]]*//p' "$t/status")
        [ "$1" = "$nobody" ] || fail "worker thread $comm runs as uid $1"
    fi
    n=$((n + 1))
done
[ "$n" -ge 4 ] || fail "only $n threads in the worker (main, 2 vCPUs, devices expected)"
! grep -q "worker.*sandbox\|made forbidden" "$T/serve.err" || fail "serve.err: $(cat "$T/serve.err")"
[ "$(status_of lx)" = running ] || fail "lx is not running: $(cat "$T/events")"
! grep -q GUEST_CRASHED "$T/events" || fail "events: $(cat "$T/events")"
serve_quit
exit 0
