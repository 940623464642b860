#!/bin/sh
# The installed vmm (the .deb, or a meson install, laid over the bed's root
# by tests/nested/run's NESTED_INSTALL_<ARCH>, which sets VMM_INSTALLED to
# its <prefix>/bin/vmm), with no VMM_FIRMWARE_DIR: its version, then the
# bundled hello guest from the installed example config, its firmware read
# from where it was installed, <prefix>/libexec/vmm/firmware. Skips without
# one.
. "$(dirname "$0")/lib.sh"
[ -n "${VMM_INSTALLED:-}" ] || skip "no installed vmm to test (VMM_INSTALLED; scripts/test sets it in the bed)"
# the version of the vmm built from this tree, which the package was too
built=$("$VMM" --version) || fail "$VMM --version failed"
VMM=$VMM_INSTALLED
unset VMM_FIRMWARE_DIR
need_vmm
vmm --version
expect_status 0
expect_stdout_has "$built"
need_kvm
cfg=${VMM_INSTALLED%/bin/vmm}/share/doc/vmm/examples/hello.toml
[ -f "$cfg" ] || fail "no example config at $cfg"
vmm run "$cfg"
expect_status 0
expect_stdout_has "hello from $ARCH guest, vCPU 0"
