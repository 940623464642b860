#!/bin/sh
# A FIFO named as a kernel, an initrd or a firmware image is refused at
# once (125, one line saying it is not a regular file), before KVM: vmm
# never opens it for a blocking read that waits for a writer forever.
. "$(dirname "$0")/lib.sh"
need_vmm
# a blocked vmm ends at this limit (124): far more than a refusal takes
# shellcheck disable=SC2034 # read by lib.sh's vmm()
VMM_TIMEOUT=20
mkfifo "$T/fifo" || skip "cannot make a FIFO here"
printf 'not a kernel at all\n' >"$T/junk"
refused() {
    expect_status 125
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected one"
    expect_stderr_has "$1"
    expect_stderr_has "fifo: not a regular file"
}
vmm run --kernel "$T/fifo"
refused "kernel:"
vmm run --kernel "$T/junk" --initrd "$T/fifo"
refused "initrd:"
printf '[boot]\nfirmware = "%s"\n' "$T/fifo" >"$T/fw.toml"
expect_config_error "$T/fw.toml" "not a regular file"
printf '[boot]\nkernel = "fifo"\n' >"$T/k.toml"
expect_config_error "$T/k.toml" "not a regular file"
exit 0
