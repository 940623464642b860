#!/bin/sh
# nested-timeout: 900
# kvm-unit-tests' arm64 suite, driven by its own runner, unchanged, through
# vmm's QEMU command-line shim (tools/vmm-qemu-shim), as a user runs it:
#     QEMU=vmm-qemu-shim ACCEL=kvm ./run_tests.sh
# Prints the runner's whole table (also to the bed's console, lines
# starting "kut: ") and fails when a test listed in tests/kut/arm64.pass
# does not PASS. tests/nested/run packs the suite (built by tests/kut/build)
# only when this test runs. CI runs only the listed tests (the runner takes
# test names): the whole suite took 1280 s in the arm64 bed, over CI's
# budget. KUT_ALL=1 (NESTED_ENV="KUT_ALL=1") runs all of it and KUT_TESTS
# names others (NESTED_ENV="KUT_TESTS=pmu-sw-incr,fpu-context"), to find
# tests that now pass (docs/kvm-unit-tests.md, "Results"). KUT_MAX_SMP sets
# MAX_SMP (default: the bed's CPU count, at least 4).
. "$(dirname "$0")/lib.sh"
[ "$ARCH" = aarch64 ] || skip "kvm-unit-tests runs on aarch64 only (x86_64 needs vmm to boot its images)"
need_kvm
KUT=${VMM_KUT_DIR:-/vmm/kut}
SHIM=${VMM_QEMU_SHIM:-/vmm/vmm-qemu-shim}
PASS_LIST=$VMM_SRCDIR/tests/kut/arm64.pass
[ -f "$KUT/run_tests.sh" ] || fail "no kvm-unit-tests in $KUT (tests/nested/run packs it; VMM_KUT_DIR names another)"
[ -x "$SHIM" ] || fail "no shim at $SHIM"
[ -f "$PASS_LIST" ] || fail "no pass list $PASS_LIST"
only=
if [ -n "${KUT_TESTS:-}" ]; then
    only=$(echo "$KUT_TESTS" | tr ',' ' ')
elif [ "${KUT_ALL:-0}" != 1 ]; then
    only=$(sed -e 's/#.*//' "$PASS_LIST" | tr -s ' \n' ' ')
    [ -n "${only# }" ] || fail "empty pass list $PASS_LIST"
fi

# MAX_SMP: the bed's CPU count, at least 4 (its-trigger wants 4 vCPUs; KVM
# runs more vCPUs than CPUs); no getconf here
max_smp=${KUT_MAX_SMP:-$(nproc)}
[ -n "${KUT_MAX_SMP:-}" ] || [ "$max_smp" -ge 4 ] || max_smp=4
# the runner's bash and GNU timeout come first
t0=$(now)
(
    cd "$KUT" || exit 1
    PATH=/opt/kut/bin:$PATH QEMU=$SHIM ACCEL=kvm MAX_SMP=$max_smp \
        TIMEOUT=$(scaled 90)s bash ./run_tests.sh $only
) >"$T/table" 2>"$T/stderr"
st=$?
esc=$(printf '\033')
sed "s/$esc\[[0-9;]*m//g" "$T/table" >"$T/plain"
echo "kvm-unit-tests: run_tests.sh ended with status $st after $(($(now) - t0)) s:"
cat "$T/plain"
if [ -n "${VMM_BED:-}" ] && [ -w /dev/console ]; then
    sed 's/^/kut: /' "$T/plain" >/dev/console
fi
[ -s "$T/plain" ] || { cat "$T/stderr"; fail "run_tests.sh printed no table"; }

missing=
while read -r name _; do
    case "$name" in ''|'#'*) continue ;; esac
    # KUT_TESTS ran other tests: only those of the list that ran count
    if [ -n "${KUT_TESTS:-}" ]; then
        case " $only " in *" $name "*) ;; *) continue ;; esac
    fi
    grep -q "^PASS $name\( \|\$\)" "$T/plain" || missing="$missing $name"
done <"$PASS_LIST"
if [ -n "$missing" ]; then
    for name in $missing; do
        echo "--- $KUT/logs/$name.log:"
        cat "$KUT/logs/$name.log" 2>/dev/null | tail -n 30
    done
    fail "listed in tests/kut/arm64.pass but not PASS:$missing"
fi
