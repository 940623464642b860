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
# a slow test from a hung one). KUT_QEMU=1 runs the same tests on real
# QEMU with KVM (/usr/bin/qemu-system-ARCH, or KUT_QEMU_BIN) instead of the
# shim, to compare; tests/nested/run packs QEMU only then.

# kut_timing_only NAME REST: true when NAME's pass-list line allows a
# timing check ("timing: TEXT" after the name) and NAME ran to its end with
# that check as its only failures. Such a check compares the guest's wall
# clock with a fixed bound (arm64 timer's "latency within 10 ms"); in the
# bed, QEMU's emulation of a loaded host now and then deschedules the vCPU
# for longer than that, whatever vmm does. Its other checks (the interrupt
# arrives, the pending states) still count. Says so, with the measured
# delay, so that a real slip stays visible.
kut_timing_only() {
    local name=$1 allowed log
    case "$2" in timing:*) allowed=${2#timing:} ;; *) return 1 ;; esac
    allowed=$(echo "$allowed" | sed 's/^ *//; s/ *$//')
    [ -n "$allowed" ] || return 1
    log=$KUT/logs/$name.log
    grep -q "^FAIL $name (" "$T/plain" || return 1
    grep -q '^EXIT: STATUS=' "$log" 2>/dev/null || return 1
    grep -q '^FAIL: ' "$log" || return 1
    # every FAIL line is "FAIL: [GROUP: ]ALLOWED"
    grep '^FAIL: ' "$log" | grep -v -x -F -e "FAIL: $allowed" |
        grep -v -e ": $allowed\$" | grep -q . && return 1
    echo "NOTE: $name counted as PASS: only its timing check \"$allowed\" failed" \
        "(the bed's emulation; measured: $(grep -i 'difference' "$log" | sed 's/^INFO: //' | tr '\n' ' '))"
    return 0
}

kut_suite() {
    pass_list=$1
    max_smp=${KUT_MAX_SMP:-$(nproc)}
    [ -n "${KUT_MAX_SMP:-}" ] || [ "$max_smp" -ge "${2:-1}" ] || max_smp=$2
    KUT=${VMM_KUT_DIR:-/vmm/kut}
    SHIM=${VMM_QEMU_SHIM:-/vmm/vmm-qemu-shim}
    [ -f "$KUT/run_tests.sh" ] || fail "no kvm-unit-tests in $KUT (tests/nested/run packs it; VMM_KUT_DIR names another)"
    # KUT_QEMU=1: the same tests on real QEMU with KVM instead of vmm, to
    # compare (tests/nested/run packs the host's QEMU only then)
    runner=$SHIM on=vmm
    if [ "${KUT_QEMU:-0}" = 1 ]; then
        runner=${KUT_QEMU_BIN:-/usr/bin/qemu-system-$ARCH} on="QEMU/KVM"
        [ -x "$runner" ] || fail "KUT_QEMU=1: no QEMU at $runner (tests/nested/run packs it when NESTED_ENV has KUT_QEMU=1)"
    else
        [ -x "$SHIM" ] || fail "no shim at $SHIM"
    fi
    [ -f "$pass_list" ] || fail "no pass list $pass_list"
    only=
    if [ -n "${KUT_TESTS:-}" ]; then
        only=$(echo "$KUT_TESTS" | tr ',' ' ')
    elif [ "${KUT_ALL:-0}" != 1 ]; then
        only=$(sed -e 's/#.*//' "$pass_list" | awk 'NF { print $1 }' | tr '\n' ' ')
        [ -n "${only# }" ] || fail "empty pass list $pass_list"
    fi

    # the runner's bash and GNU timeout come first; no getconf here. -a with
    # named tests: a named test runs even when unittests.cfg marks it
    # "nodefault" (arm64's fpu-context), as a user naming it wants.
    # Each result line also goes to the bed's console as it comes ("kut:
    # live: "), so that a bed that dies mid-run (the bed's own QEMU once
    # aborted under QEMU/KVM, KUT_QEMU=1) still tells how far it got.
    live=
    if [ -n "${VMM_BED:-}" ] && [ -w /dev/console ]; then live=yes; fi
    t0=$(now)
    (
        cd "$KUT" || exit 1
        PATH=/opt/kut/bin:$PATH QEMU=$runner ACCEL=kvm MAX_SMP=$max_smp \
            TIMEOUT=${KUT_TIMEOUT:-$(scaled 90)}s bash ./run_tests.sh ${only:+-a} $only
        echo $? >"$T/status"
    ) 2>"$T/stderr" | while IFS= read -r line; do
        printf '%s\n' "$line"
        [ -z "$live" ] || printf 'kut: live: %s\n' "$line" >/dev/console
    done >"$T/table"
    st=$(cat "$T/status" 2>/dev/null || echo "?")
    esc=$(printf '\033')
    sed "s/$esc\[[0-9;]*m//g" "$T/table" >"$T/plain"
    echo "kvm-unit-tests on $on: run_tests.sh ended with status $st after $(($(now) - t0)) s:"
    cat "$T/plain"
    if [ -n "${VMM_BED:-}" ] && [ -w /dev/console ]; then
        { echo "on $on:"; cat "$T/plain"; } | sed 's/^/kut: /' >/dev/console
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
    while read -r name rest; do
        case "$name" in ''|'#'*) continue ;; esac
        # KUT_TESTS ran other tests: only those of the list that ran count
        if [ -n "${KUT_TESTS:-}" ]; then
            case " $only " in *" $name "*) ;; *) continue ;; esac
        fi
        grep -q "^PASS $name\( \|\$\)" "$T/plain" && continue
        kut_timing_only "$name" "$rest" || missing="$missing $name"
    done <"$pass_list"
    if [ -n "$missing" ]; then
        for name in $missing; do
            echo "--- $KUT/logs/$name.log:"
            cat "$KUT/logs/$name.log" 2>/dev/null | tail -n 30
        done
        # on QEMU/KVM the run is a comparison: the pass list is vmm's
        if [ "${KUT_QEMU:-0}" = 1 ]; then
            echo "NOTE: listed in ${pass_list#"$VMM_SRCDIR"/} (vmm passes them) but not PASS on $on:$missing"
            return 0
        fi
        fail "listed in ${pass_list#"$VMM_SRCDIR"/} but not PASS on $on:$missing"
    fi
}
