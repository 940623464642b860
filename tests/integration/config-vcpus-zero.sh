#!/bin/sh
# config mistake: vcpus = 0
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/vcpus-zero.toml" vcpus
