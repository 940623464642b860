# kvm-unit-tests' suite for one architecture, driven by its own runner,
# unchanged, through vmm's QEMU command-line shim, as a user runs it:
#     QEMU=vmm-qemu-shim ACCEL=kvm ./run_tests.sh
# Sourced by tests/integration/kut-<arch>.sh (after lib.sh and need_kvm):
#     kut_suite PASS_LIST [MIN_SMP]
# prints the runner's whole table (also to the bed's console, lines
# starting "kut: ") and fails when a test named in PASS_LIST does not PASS.
# Only the listed tests run unless KUT_ALL=1 (all of them) or KUT_TESTS
# names others (NESTED_ENV="KUT_TESTS=a,b"), to find tests that now pass
# (docs/kvm-unit-tests.md, "Results"). MAX_SMP is the bed's CPU count, at
# least MIN_SMP (KVM runs more vCPUs than CPUs), or KUT_MAX_SMP. Each test
# may take 90 s times the bed's slowness, or KUT_TIMEOUT seconds (to tell
# a slow test from a hung one).
kut_suite() {
    pass_list=$1
    max_smp=${KUT_MAX_SMP:-$(nproc)}
    [ -n "${KUT_MAX_SMP:-}" ] || [ "$max_smp" -ge "${2:-1}" ] || max_smp=$2
    KUT=${VMM_KUT_DIR:-/vmm/kut}
    SHIM=${VMM_QEMU_SHIM:-/vmm/vmm-qemu-shim}
    [ -f "$KUT/run_tests.sh" ] || fail "no kvm-unit-tests in $KUT (tests/nested/run packs it; VMM_KUT_DIR names another)"
    [ -x "$SHIM" ] || fail "no shim at $SHIM"
    [ -f "$pass_list" ] || fail "no pass list $pass_list"
    only=
    if [ -n "${KUT_TESTS:-}" ]; then
        only=$(echo "$KUT_TESTS" | tr ',' ' ')
    elif [ "${KUT_ALL:-0}" != 1 ]; then
        only=$(sed -e 's/#.*//' "$pass_list" | tr -s ' \n' ' ')
        [ -n "${only# }" ] || fail "empty pass list $pass_list"
    fi

    # the runner's bash and GNU timeout come first; no getconf here
    t0=$(now)
    (
        cd "$KUT" || exit 1
        PATH=/opt/kut/bin:$PATH QEMU=$SHIM ACCEL=kvm MAX_SMP=$max_smp \
            TIMEOUT=${KUT_TIMEOUT:-$(scaled 90)}s bash ./run_tests.sh $only
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

    # exploring (KUT_TESTS, KUT_ALL): the end of each failed test's log,
    # also on the bed's console (its log keeps it when this test passes)
    if [ -n "${KUT_TESTS:-}" ] || [ "${KUT_ALL:-0}" = 1 ]; then
        sed -n 's/^FAIL \([^ ]*\).*/\1/p' "$T/plain" | while read -r name; do
            echo "--- $KUT/logs/$name.log:"
            tail -n "${KUT_LOG_LINES:-15}" "$KUT/logs/$name.log" 2>/dev/null
        done >"$T/failed"
        cat "$T/failed"
        if [ -n "${VMM_BED:-}" ] && [ -w /dev/console ]; then
            sed 's/^/kut: /' "$T/failed" >/dev/console
        fi
    fi

    missing=
    while read -r name _; do
        case "$name" in ''|'#'*) continue ;; esac
        # KUT_TESTS ran other tests: only those of the list that ran count
        if [ -n "${KUT_TESTS:-}" ]; then
            case " $only " in *" $name "*) ;; *) continue ;; esac
        fi
        grep -q "^PASS $name\( \|\$\)" "$T/plain" || missing="$missing $name"
    done <"$pass_list"
    if [ -n "$missing" ]; then
        for name in $missing; do
            echo "--- $KUT/logs/$name.log:"
            cat "$KUT/logs/$name.log" 2>/dev/null | tail -n 30
        done
        fail "listed in ${pass_list#"$VMM_SRCDIR"/} but not PASS:$missing"
    fi
}
