#!/bin/sh
# configs/hello.toml, the README's command: every vCPU of the bundled hello
# guest (as many as the config says) prints its line, once; status 0
. "$(dirname "$0")/lib.sh"
need_kvm
cfg=$VMM_SRCDIR/configs/hello.toml
n=$(sed -n 's/^[[:space:]]*vcpus[[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$cfg")
n=${n:-1}
vmm run "$cfg"
expect_status 0
i=0
while [ "$i" -lt "$n" ]; do
    c=$(count_lines "$T/stdout" "hello from $ARCH guest, vCPU $i")
    [ "$c" = 1 ] || fail "vCPU $i: $c lines, expected 1"
    i=$((i + 1))
done
c=$(count_lines "$T/stdout" "hello from")
[ "$c" = "$n" ] || fail "$c hello lines, expected $n (vcpus = $n)"
