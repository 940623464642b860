#!/bin/sh
# config mistake: an image larger than guest RAM (a 64 MiB segment, 4 MiB
# of memory); the message says it is about memory/RAM
. "$(dirname "$0")/lib.sh"
make_elf "$T/big.elf" "$ARCH" "$(load_addr)" $((64 << 20))
printf '[vm]\nmemory = "4M"\n\n[boot]\nfirmware = "%s"\n' "$T/big.elf" >"$T/too-big.toml"
expect_config_error "$T/too-big.toml"
grep -qiwE 'memory|ram' "$T/stderr" || fail "the message does not mention memory or RAM"
