#!/bin/sh
# [console] file: the guest's console goes to the file, not to stdout
. "$(dirname "$0")/lib.sh"
need_kvm
cat >"$T/console.toml" <<EOT
[vm]
memory = "64M"

[boot]
firmware = "hello"

[console]
file = "$T/console.txt"
EOT
vmm run "$T/console.toml"
expect_status 0
[ -e "$T/console.txt" ] || fail "no $T/console.txt"
grep -qF "hello from $ARCH guest, vCPU 0" "$T/console.txt" || fail "console file lacks the hello line: $(cat "$T/console.txt")"
expect_stdout_lacks "hello from"
