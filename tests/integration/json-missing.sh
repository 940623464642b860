#!/bin/sh
# json-glib is loaded only by the commands that speak JSON (vmm serve, vmm
# ctl, vmm run --qmp; docs/architecture.md): when it cannot be loaded they
# end with one line naming the library and its package, status 127, and
# vmm run without a control socket never needs it. A file that is no
# library stands in for a missing or broken install (LD_LIBRARY_PATH is
# searched first).
. "$(dirname "$0")/lib.sh"
need_vmm
mkdir "$T/lib"
echo "not a library" > "$T/lib/libjson-glib-1.0.so.0"
LD_LIBRARY_PATH=$T/lib
export LD_LIBRARY_PATH

check_refused() {
    expect_status 127
    expect_stderr_has "cannot load libjson-glib-1.0.so.0 (Debian package libjson-glib-1.0-0)"
    [ "$(wc -l < "$T/stderr")" -eq 1 ] || fail "more than one line on stderr"
    [ ! -e "$T/sock" ] || fail "a socket was made"
}
vmm ctl --socket "$T/sock" query-status
check_refused
vmm serve --socket "$T/sock"
check_refused
vmm run --qmp "unix:$T/sock" "$CONFIGS/hello.toml"
check_refused
# Without a control socket, vmm run gets as far as its config without it.
vmm run "$T/no-such.toml"
expect_status 125
expect_stderr_has "no-such.toml"
