#!/bin/sh
# the guest powers off: the VM ends with status 0
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/poweroff.toml"
expect_status 0
