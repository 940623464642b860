#!/bin/sh
# Linux boot mistakes get one clear line and status 125, before KVM: a file
# that is no kernel, a kernel too large for the memory, a missing initrd,
# options that need a kernel, a config with both firmware and kernel.
. "$(dirname "$0")/lib.sh"
need_vmm
printf 'not a kernel at all\n' >"$T/junk"
one_line() {
    expect_status 125
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected one"
    for w in "$@"; do expect_stderr_has "$w"; done
}
vmm run --kernel "$T/junk"
case "$ARCH" in
    x86_64) one_line "not a bzImage" ;;
    aarch64) # a file with no Image header is a raw binary: it boots (no KVM here: 126)
        [ "$status" = 125 ] && fail "a raw binary was refused" ;;
esac
make_elf "$T/fw.elf" "$ARCH" "$(load_addr)" 4096
vmm run --kernel "$T/fw.elf"
one_line "not a" "ELF"
vmm run --kernel "$T/fw.elf" --initrd "$T/no-such-initrd"
one_line "initrd" "No such file"
vmm run --initrd "$T/junk" "$VMM_SRCDIR/configs/hello.toml"
one_line "--initrd" "kernel"
printf '[boot]\nfirmware = "hello"\nkernel = "k"\n' >"$T/both.toml"
vmm run "$T/both.toml"
one_line "both.toml" "firmware and kernel"
vmm run --kernel "$T/junk" --memory 12X
one_line "--memory"
vmm run --kernel "$T/junk" --cpus 0
one_line "--cpus"
# a kernel that does not fit: the bed's or .cache's kernel in 4 MiB
for k in "${VMM_LINUX_KERNEL:-}" /vmm/testbed/vmlinuz "$VMM_SRCDIR/.cache/testbed/vmlinuz-$ARCH"; do
    if [ -n "$k" ] && [ -r "$k" ]; then
        vmm run --kernel "$k" --memory 4M
        one_line "too large" "4 MiB"
        break
    fi
done
exit 0
