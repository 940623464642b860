#!/bin/sh
# a guest that runs into an undefined instruction: "guest crashed", a
# register dump, status 120
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/undef.toml"
expect_crash
