#!/bin/sh
# a guest-chosen exit status (3) becomes vmm's exit status
. "$(dirname "$0")/lib.sh"
need_kvm
vmm run "$CONFIGS/exit3.toml"
expect_status 3
