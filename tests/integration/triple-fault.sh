#!/bin/sh
# a guest that triple-faults (x86) / takes an exception it cannot handle
# (arm): "guest crashed", a register dump, status 120
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/triple-fault.toml"
expect_crash
