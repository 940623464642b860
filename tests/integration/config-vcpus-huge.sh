#!/bin/sh
# config mistake: vcpus = 100000, above KVM's limit (checked against KVM, so
# it needs /dev/kvm; the message need not name the file)
. "$(dirname "$0")/lib.sh"
need_kvm
expect_config_error --no-file "$CONFIGS/vcpus-huge.toml" vcpus 100000
