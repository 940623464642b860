#!/bin/sh
# a config file that does not exist: one line naming it, status 125
. "$(dirname "$0")/lib.sh"
expect_config_error "$T/no-such-config.toml"
