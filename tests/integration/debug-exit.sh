#!/bin/sh
# the debug-exit device (isa-debug-exit style on x86): the guest's exit ends
# the VM with status 5
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/debug-exit.toml"
expect_status 5
