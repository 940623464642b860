#!/bin/sh
# hostile-restricted.sh with a VM that may make no call at all: every call
# and ucall is refused as no-calls (x86_64: #UD at each vmcall, through
# vmm's re-entry of KVM_RUN to raise it), vmm stays up and answers.
HOSTILE_POLICY=none
export HOSTILE_POLICY
exec sh "$(dirname "$0")/hostile-restricted.sh"
