#!/bin/sh
# config mistake: memory = "4096G", more than the host has
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/memory-huge.toml" memory 4096G
