#!/bin/sh
# A multiboot kernel (kvm-unit-tests' x86 images) whose header vmm cannot
# honour gets one clear line and status 125, before KVM: a load address
# outside RAM, one that wraps the 32-bit space, a video mode, an initrd that
# does not fit. (The header's parser: tests/unit/test_multiboot.c; a real
# image booting: kut-x86_64 in the bed.)
. "$(dirname "$0")/lib.sh"
need_vmm
[ "$ARCH" = x86_64 ] || skip "multiboot kernels boot on x86_64"

# mb FILE FLAGS [HEADER LOAD LOAD_END BSS_END ENTRY]: a multiboot header at
# offset 0 (with flag 16, its addresses), then 4 KiB of code
mb() {
    _f=$1 _flags=$2
    shift 2
    {
        le $((0x1badb002)) 4; le "$_flags" 4; le $(((-(0x1badb002 + _flags)) & 0xffffffff)) 4
        for _a in "$@"; do le "$_a" 4; done
        head -c 4096 /dev/zero
    } >"$_f"
}
one_line() {
    expect_status 125
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected one"
    for w in "$@"; do expect_stderr_has "$w"; done
}

# loaded at 1 GiB: beyond 64 MiB of RAM
mb "$T/far.flat" $((0x10000)) $((0x40000000)) $((0x40000000)) 0 0 $((0x40000000))
vmm run --kernel "$T/far.flat" --memory 64M
one_line "far.flat" "outside the RAM"
# bss to the top of the 32-bit space
mb "$T/wrap.flat" $((0x10000)) $((0x200000)) $((0x200000)) 0 $((0xffffffff)) $((0x200000))
vmm run --kernel "$T/wrap.flat" --memory 64M
one_line "wrap.flat" "outside the RAM"
mb "$T/video.flat" 4
vmm run --kernel "$T/video.flat"
one_line "video.flat" "video mode"
# a sound kernel at 2 MiB, and an initrd larger than the RAM left after it
mb "$T/ok.flat" $((0x10000)) $((0x200000)) $((0x200000)) 0 0 $((0x200000))
head -c $((31 << 20)) /dev/zero >"$T/big.env"
vmm run --kernel "$T/ok.flat" --initrd "$T/big.env" --memory 32M
one_line "initrd" "do not fit"
echo "PASS"
