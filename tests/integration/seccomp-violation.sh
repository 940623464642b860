#!/bin/sh
# A forbidden system call made on purpose, after the filters are in place,
# by each kind of thread (the hidden test hook VMM_TEST_SECCOMP_VIOLATION=
# KIND makes that thread call socket(), which no allow-list has): vmm ends
# at once with status 127 and one line naming the thread kind and the call.
# Without the filters (--no-seccomp, [security] seccomp = false) the same
# hook does no harm and the guest ends as usual.
. "$(dirname "$0")/lib.sh"
need_kvm

# expect_violation KIND: the line for KIND's socket() call, and status 127
expect_violation() {
    expect_status 127
    grep -q "^vmm: seccomp: thread $1 made forbidden system call socket ([0-9]*) — this is a bug in vmm; rerun with --no-seccomp to debug\$" "$T/stderr" ||
        fail "no seccomp line for thread $1 on stderr"
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected 1"
}

export VMM_TEST_SECCOMP_VIOLATION=vcpu
vmm run "$CONFIGS/hello-4.toml"
expect_violation vcpu

VMM_TEST_SECCOMP_VIOLATION=main
vmm run "$CONFIGS/hello-4.toml"
expect_violation main

# the console input thread: standard input a FIFO that stays open
mkfifo "$T/in" || fail "mkfifo"
exec 3<>"$T/in"
VMM_TEST_SECCOMP_VIOLATION=stdin
cmdline="vmm run $CONFIGS/spin.toml <fifo"
timeout "$VMM_TIMEOUT" "$VMM" run "$CONFIGS/spin.toml" >"$T/stdout" 2>"$T/stderr" <"$T/in"
status=$?
expect_violation stdin
exec 3>&-

# vmm run --qmp and vmm serve: the server's main loop
VMM_TEST_SECCOMP_VIOLATION=serve
vmm run --qmp "unix:$T/run.sock" --timeout 20 "$CONFIGS/hello-4.toml"
expect_violation serve
vmm serve --qmp "unix:$T/serve.sock"
expect_violation serve

# no filters: the hook's socket() is harmless
VMM_TEST_SECCOMP_VIOLATION=vcpu
vmm run --no-seccomp "$CONFIGS/hello-4.toml"
expect_status 0
printf '[security]\nseccomp = false\n' | cat "$CONFIGS/hello-4.toml" - >"$T/off.toml"
vmm run "$T/off.toml"
expect_status 0
