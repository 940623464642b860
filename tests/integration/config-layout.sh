#!/bin/sh
# vmm's own per-vCPU reservations (stacks, ucall structures) and boot
# structures must fit in RAM beside the images: too many vCPUs for the
# memory is a config error before KVM (125, one line saying how much RAM
# is needed), for firmware and kernel boots; it used to wrap (x86_64: a
# segfault creating the VM) or overwrite the guest's page tables.
. "$(dirname "$0")/lib.sh"
need_vmm
fw=$(firmware hello)
# 64 vCPUs in 2 MiB: x86_64 needs 6 MiB (1 MiB + 64 x 68 KiB), aarch64
# 3 MiB (2 MiB of device tree + 64 x 4 KiB)
case "$ARCH" in
    x86_64) need=6 ;;
    aarch64) need=3 ;;
esac
printf '[vm]\nmemory = "2M"\nvcpus = 64\n\n[boot]\nfirmware = "%s"\n' "$fw" >"$T/fw64.toml"
expect_config_error "$T/fw64.toml" "needs at least $need MiB of RAM for 64 vCPUs"
expect_stderr_has "raise vm.memory"
# with that much, the machine fits: what is refused next is the image (a
# 64 MiB segment), not the layout (no guest runs)
make_elf "$T/big.elf" "$ARCH" "$(load_addr)" $((64 << 20))
printf '[vm]\nmemory = "%dM"\nvcpus = 64\n\n[boot]\nfirmware = "%s"\n' "$need" "$T/big.elf" >"$T/big.toml"
expect_config_error "$T/big.toml" "segment 0"
! grep -q "needs at least" "$T/stderr" || fail "$need MiB were refused for the layout"
if [ "$ARCH" = x86_64 ]; then
    # 30 vCPUs in 2 MiB: the reservations reached below 1 MiB (the page
    # tables) without wrapping
    printf '[vm]\nmemory = "2M"\nvcpus = 30\n\n[boot]\nfirmware = "%s"\n' "$fw" >"$T/fw30.toml"
    expect_config_error "$T/fw30.toml" "needs at least 3 MiB of RAM for 30 vCPUs"
fi
# the same check for a kernel boot, before the kernel file is even parsed
printf 'not a kernel at all\n' >"$T/junk"
case "$ARCH" in
    x86_64) vmm run --kernel "$T/junk" --memory 2M --cpus 300; words="up to 255 vCPUs" ;;
    aarch64) vmm run --kernel "$T/junk" --memory 2M --cpus 64; words="needs at least 3 MiB of RAM for 64 vCPUs" ;;
esac
expect_status 125
n=$(grep -c '' "$T/stderr")
[ "$n" = 1 ] || fail "$n lines on stderr, expected one"
expect_stderr_has "$words"

# poke FILE OFFSET VALUE BYTES: VALUE little-endian at OFFSET
poke() { le "$3" "$4" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null; }
if [ "$ARCH" = x86_64 ]; then
    # A bzImage that fits 17 MiB (4 KiB at 16 MiB), with 300 vCPUs: their
    # reservations once wrapped below 0 and vmm crashed creating the VM
    # (the 255-vCPU limit of a Linux guest came too late).
    head -c $((5 * 512 + 4096)) /dev/zero >"$T/bz"
    poke "$T/bz" $((0x1f1)) 4 1; poke "$T/bz" $((0x1fe)) $((0xaa55)) 2
    poke "$T/bz" $((0x201)) $((0x6a)) 1; printf HdrS | dd of="$T/bz" bs=1 seek=$((0x202)) conv=notrunc 2>/dev/null
    poke "$T/bz" $((0x206)) $((0x20f)) 2; poke "$T/bz" $((0x211)) 1 1
    poke "$T/bz" $((0x22c)) $((0x7fffffff)) 4; poke "$T/bz" $((0x236)) 1 2
    poke "$T/bz" $((0x238)) 2047 4; poke "$T/bz" $((0x258)) $((16 << 20)) 8
    vmm run --kernel "$T/bz" --memory 17M --cpus 300
    expect_status 125
    expect_stderr_has "up to 255 vCPUs"
    # and a preferred address that wraps with the kernel's size
    poke "$T/bz" $((0x258)) -4096 8
    vmm run --kernel "$T/bz" --memory 64M
    expect_status 125
    expect_stderr_has "too large for 64 MiB"
fi
exit 0
