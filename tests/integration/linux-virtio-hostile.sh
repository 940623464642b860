#!/bin/sh
# nested-timeout: 240
# A hostile virtio driver in the guest (tests/tools/virtio-hostile, as
# root): it takes the virtio-rng PCI function from Linux, maps its BAR 0
# and drives queue 0 by hand with rings in its own pages. Each malformed
# chain (a loop, buffers outside guest RAM or whose length wraps, a head or
# next index past the table, an available index that jumps, an indirect
# table inside an indirect table or of a bad length) must make the device
# set DEVICE_NEEDS_RESET and use nothing; a well-formed request is served
# before and after them. vmm says once that the driver broke the queue and
# goes on: Linux's own driver then binds the function again and reads
# random bytes through it, and the guest ends with its status.
. "$(dirname "$0")/lib.sh"
need_linux
need_linux_module virtio-rng
need_test_program virtio-hostile VMM_VIRTIO_HOSTILE
linux_initrd 'virtio-hostile 1044; echo "hostile: status $?"
echo 0000:00:02.0 >/sys/bus/pci/drivers/virtio-pci/bind
echo "rebound: driver=$(basename "$(readlink /sys/bus/pci/devices/0000:00:02.0/driver)")"
echo "rng_current: $(cat /sys/class/misc/hw_random/rng_current)"
echo "hwrng bytes: $(head -c 4096 /dev/hwrng | wc -c)"
vmm-exit 0'
VMM_TIMEOUT=200 vmm_linux
expect_stdout_has "init: up"
expect_stdout_has "virtio-hostile: device 1044 at 0000:00:02.0"
for c in good-first loop outside-ram length-wraps head-past-table avail-jump next-past-table \
    indirect-in-indirect indirect-bad-length good-after; do
    grep -q "^virtio-hostile: case $c: " "$T/stdout" || fail "no line for case $c"
done
expect_stdout_has "virtio-hostile: all 10 cases as expected"
expect_stdout_has "hostile: status 0"
expect_stdout_has "rebound: driver=virtio-pci"
expect_stdout_has "rng_current: virtio_rng.0"
expect_stdout_has "hwrng bytes: 4096"
# the first break is logged, the others are counted only
[ "$(grep -c "virtio-rng: the driver broke queue 0" "$T/stderr")" = 1 ] ||
    fail "expected one 'broke queue' line on stderr: $(cat "$T/stderr")"
expect_status 0
