#!/bin/sh
# [policy] mistakes: one line naming the file, position and the bad value; 125
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/policy-bad-flag.toml" '"consle"'
expect_stderr_has 'policy-bad-flag.toml:6:'
expect_config_error "$CONFIGS/policy-bad-role.toml" '"admin"'
expect_config_error "$CONFIGS/policy-bad-service.toml" '"teleport"'
