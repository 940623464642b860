#!/bin/sh
# config mistake: an unknown key (memroy) is named
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/unknown-key.toml" memroy
