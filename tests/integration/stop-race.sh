#!/bin/sh
# nested-timeout: 300
# The stop path under repetition: deterministic guests that end themselves
# the moment their last line is out, run STOP_RACE_RUNS times each (default
# 3; tests/nested/run with NESTED_ENV="STOP_RACE_RUNS=100" for a hunt, and
# STOP_RACE_CASES=off2,off4 for some of the cases below):
# poweroff (PSCI SYSTEM_OFF on aarch64) on 1, 2 and 4 vCPUs, where vCPU 0
# powers off while the secondaries it just started with CPU_ON are still
# coming up; reset (PSCI SYSTEM_RESET) on 2 vCPUs; hello and smp-stress on
# 4 vCPUs (the exit device, once every vCPU has printed and gone off).
# Every run must end with its guest's status and full output; any other end
# is recorded with its stderr and the test fails after all the runs, saying
# how many of how many went wrong.
. "$(dirname "$0")/lib.sh"
need_kvm
runs=${STOP_RACE_RUNS:-3}

# config NAME FIRMWARE VCPUS
config() {
    printf '[vm]\nname = "%s"\nmemory = "64M"\nvcpus = %s\n\n[boot]\nfirmware = "%s"\n' \
        "$1" "$3" "$2" >"$T/$1.toml"
}
config off1 poweroff 1
config off2 poweroff 2
config off4 poweroff 4
config reset2 reset 2
config hello4 hello 4
config stress4 smp-stress 4
# stress4 (200 lines: ~11 s a run in a loaded aarch64 bed) only when named
cases="off1 off2 off4 hello4"
[ "$ARCH" = aarch64 ] && cases="$cases reset2"
# (commas or spaces between names: NESTED_ENV words hold no spaces)
cases=$(echo "${STOP_RACE_CASES:-$cases}" | tr ',' ' ')

# check CASE: did the last run end as that guest must? (0 with its output)
check() {
    [ "$status" = 0 ] || return 1
    case "$1" in
        off*) grep -q "poweroff: powering off" "$T/stdout" ;;
        reset2) grep -q "reset: resetting" "$T/stdout" ;;
        hello4) [ "$(count_lines "$T/stdout" "hello from $ARCH guest")" = 4 ] ;;
        stress4) [ "$(count_lines "$T/stdout" "smp-stress: vCPU")" = 200 ] ;;
    esac
}

bad=0 total=0
: >"$T/report"
i=1
while [ "$i" -le "$runs" ]; do
    for c in $cases; do
        vmm run "$T/$c.toml"
        total=$((total + 1))
        check "$c" && continue
        bad=$((bad + 1))
        {
            echo "run $i of $c: status $status"
            sed 's/^/  stderr: /' "$T/stderr"
            tail -n 3 "$T/stdout" | sed 's/^/  stdout: /'
        } >>"$T/report"
    done
    i=$((i + 1))
done
echo "$total runs, $bad ended wrong"
if [ "$bad" != 0 ]; then
    cat "$T/report"
    cmdline=
    fail "$bad of $total runs ended wrong"
fi
exit 0
