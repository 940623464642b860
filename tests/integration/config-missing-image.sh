#!/bin/sh
# config mistake: the firmware file does not exist
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/missing-image.toml" no-such.elf
