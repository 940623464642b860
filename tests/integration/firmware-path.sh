#!/bin/sh
# [boot] firmware as a path, relative to the config file's directory (not
# to the working directory)
. "$(dirname "$0")/lib.sh"
need_kvm
mkdir -p "$T/vm/images" "$T/elsewhere"
cp "$(firmware hello)" "$T/vm/images/hello.elf"
printf '[vm]\nmemory = "64M"\n\n[boot]\nfirmware = "images/hello.elf"\n' >"$T/vm/path.toml"
cd "$T/elsewhere" || exit 1
vmm run ../vm/path.toml
expect_status 0
expect_stdout_has "hello from $ARCH guest, vCPU 0"
