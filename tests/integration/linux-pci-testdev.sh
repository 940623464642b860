#!/bin/sh
# nested-timeout: 240
# pci-testdev (--pci-test-device on) under Linux: the kernel finds it at
# 00:1f.0 with QEMU's IDs and places both BARs in the host bridge's windows
# (aarch64: the I/O BAR in the device tree's I/O range); writes through
# /dev/mem to a test's doorbell are counted exactly, on the memory BAR and
# (aarch64, where the I/O window is MMIO at 0x3eff0000) on the I/O BAR.
# A firmware boot has no PCI bus: asking for the device there is refused.
. "$(dirname "$0")/lib.sh"
need_linux
# One test on a BAR through devmem: select test 2 (4-byte writes of the
# data value), write the data 5 times and another value once at its
# doorbell; print what the header says.
linux_initrd 'd=/sys/bus/pci/devices/0000:00:1f.0
echo "pci: ${d##*/} $(cat $d/vendor) $(cat $d/device) $(cat $d/class)"
echo 1 >$d/enable
bar_test() { # bar_test NAME CPU-ADDRESS
    a=$(($2))
    devmem $a 8 2
    off=$(devmem $((a + 4)) 32); data=$(devmem $((a + 8)) 32)
    for i in 1 2 3 4 5; do devmem $((a + off)) 32 $data; done
    devmem $((a + off)) 32 $((data ^ 1))
    echo "$1: width $(devmem $((a + 1)) 8) count $(devmem $((a + 12)) 32)"
}
set -- $(sed -n 1p $d/resource)
echo "bar0: mem $((($3 & 0x200) != 0)) size $(($2 - $1 + 1))"
bar_test mem $1
set -- $(sed -n 2p $d/resource)
echo "bar1: io $((($3 & 0x100) != 0)) size $(($2 - $1 + 1)) port $(($1))"
if [ "$(uname -m)" = aarch64 ]; then bar_test io $((0x3eff0000 + $1)); fi
vmm-exit 0'
LINUX_APPEND=loglevel=6 VMM_TIMEOUT=200 vmm_linux --pci-test-device on
expect_stdout_has "init: up"
expect_stdout_has "pci: 0000:00:1f.0 0x1b36 0x0005 0xff0000"
# the resource flags: IORESOURCE_MEM (0x200), IORESOURCE_IO (0x100)
expect_stdout_has "bar0: mem 1 size 4096"
grep -q '^bar1: io 1 size 256 port' "$T/stdout" || fail "BAR 1: $(grep bar1 "$T/stdout")"
expect_stdout_has "mem: width 0x04 count 0x00000005"
if [ "$ARCH" = aarch64 ]; then
    expect_stdout_has "io: width 0x04 count 0x00000005"
else
    port=$(sed -n 's/^bar1: .* port \([0-9]*\).*/\1/p' "$T/stdout")
    [ "${port:-0}" -ge $((0xd000)) ] && [ "$port" -le $((0xdf00)) ] ||
        fail "the I/O BAR is at port ${port:-none}, not in the window 0xd000-0xdfff"
fi
expect_stdout_lacks "can't claim"
expect_stdout_lacks "no space for"
expect_status 0

# No PCI bus on a firmware boot: refused with one line.
vmm run --pci-test-device on "$VMM_SRCDIR/configs/hello.toml"
expect_status 125
expect_stderr_has "pci-test-device needs a kernel"
