#!/bin/sh
# config mistake: a firmware image for the other architecture (the other
# arch's hello where the build has it, else a minimal ELF for that arch)
. "$(dirname "$0")/lib.sh"
img=$VMM_FIRMWARE_DIR/hello-$OTHER_ARCH.elf
if [ ! -e "$img" ]; then
    img=$T/hello-$OTHER_ARCH.elf
    make_elf "$img" "$OTHER_ARCH" "$(load_addr)" 4096
fi
printf '[vm]\nmemory = "64M"\n\n[boot]\nfirmware = "%s"\n' "$img" >"$T/wrong-arch.toml"
expect_config_error "$T/wrong-arch.toml" "hello-$OTHER_ARCH.elf"
