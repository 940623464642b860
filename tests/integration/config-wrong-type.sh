#!/bin/sh
# config mistake: vcpus = "two" (wrong type) is named
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/wrong-type.toml" vcpus
