#!/bin/sh
# config mistake: a TOML syntax error is reported as file:line:column
. "$(dirname "$0")/lib.sh"
expect_config_error "$CONFIGS/syntax.toml"
grep -qE 'syntax\.toml:3:[0-9]+' "$T/stderr" || fail "the message has no syntax.toml:3:COLUMN"
