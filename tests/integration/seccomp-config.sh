#!/bin/sh
# [security] in a VM config: seccomp takes a boolean; any other key or type
# is one line and status 125. --no-seccomp is an option of vmm run and vmm
# serve (no value). Needs no KVM: all is checked before KVM is opened.
. "$(dirname "$0")/lib.sh"
need_vmm
printf '[vm]\nmemory = "64M"\n[boot]\nfirmware = "hello"\n[security]\nseccomp = "off"\n' >"$T/type.toml"
expect_config_error "$T/type.toml" security.seccomp
printf '[vm]\nmemory = "64M"\n[boot]\nfirmware = "hello"\n[security]\nsandbox = false\n' >"$T/key.toml"
expect_config_error "$T/key.toml" sandbox
vmm run --no-seccomp=1 "$T/key.toml"
expect_status 125
vmm serve --no-seccomp
expect_status 125
expect_stderr_has "[--no-seccomp]"
