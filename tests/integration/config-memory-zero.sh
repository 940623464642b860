#!/bin/sh
# config mistake: memory = 0
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/memory-zero.toml" memory
