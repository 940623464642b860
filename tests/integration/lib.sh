# Shared by the integration tests: . "$(dirname "$0")/lib.sh"
# POSIX sh (busybox sh in the nested bed). A test exits 0 on pass, 77 on
# skip, anything else on failure.
#
# Environment (set by meson and by tests/nested/init):
#   VMM               the vmm binary
#   VMM_FIRMWARE_DIR  where <name>-<arch>.elf are
#   VMM_SRCDIR        the source tree (configs/ is there)
#   ARCH              x86_64 or aarch64
#   VMM_BED           set inside the nested bed: a missing /dev/kvm fails
#                     rather than skips
#   VMM_SLOW          how many times slower than a quick machine this one runs
#                     (tests/nested/init measures it; 1 when unset): every time
#                     limit below is multiplied by it
# shellcheck shell=sh disable=SC2034 # the variables set here are the tests'

set -u

TESTDIR=$(cd "$(dirname "$0")" && pwd)
CONFIGS=$TESTDIR/configs
: "${VMM:?VMM is not set}" "${VMM_FIRMWARE_DIR:?VMM_FIRMWARE_DIR is not set}" "${VMM_SRCDIR:?VMM_SRCDIR is not set}"
ARCH=${ARCH:-$(uname -m)}
export VMM_FIRMWARE_DIR ARCH
case "$ARCH" in
    x86_64) OTHER_ARCH=aarch64 ;;
    aarch64) OTHER_ARCH=x86_64 ;;
    *) echo "unknown ARCH $ARCH"; exit 1 ;;
esac
# Time limits. Tests wait for events (a guest's exit, a line in a file, a
# socket, a state over vmm ctl); a limit is only the safety net that ends a
# test whose event never comes, and says what it was waiting for. Every
# limit is in seconds on a quick machine, multiplied by VMM_SLOW.
case ${VMM_SLOW:-} in ''|*[!0-9]*|0) VMM_SLOW=1 ;; esac
# seconds one vmm run may take before the test gives up on it (before scaling)
VMM_TIMEOUT=${VMM_TIMEOUT:-30}

# scaled SECONDS: a limit for this machine
scaled() { echo $(($1 * VMM_SLOW)); }

# now: whole seconds since boot (a clock for limits that no date change moves)
now() {
    read -r _now _ </proc/uptime
    echo "${_now%.*}"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
trap 'exit 130' INT
# A test ended by its time limit says where it was: the ends of the files
# a control-socket test writes (what vmm serve and the events said)
on_term() {
    for _f in serve.err events ctl.err; do
        [ -s "$T/$_f" ] && { echo "--- $_f (end):"; tail -n 8 "$T/$_f"; }
    done
    exit 143
}
trap on_term TERM
cd "$T" || exit 1

status=
cmdline=
timed_out=

skip() { echo "SKIP: $*"; exit 77; }

# show: what the last vmm run did
show() {
    [ -n "$cmdline" ] || return 0
    echo "command: $cmdline"
    echo "status: $status"
    [ -z "$timed_out" ] || echo "timed out: $timed_out"
    echo "--- stdout:"
    cat "$T/stdout" 2>/dev/null
    echo "--- stderr:"
    cat "$T/stderr" 2>/dev/null
    echo "---"
}

fail() { echo "FAIL: $*"; show; exit 1; }

need_vmm() {
    [ -x "$VMM" ] || fail "no vmm binary at $VMM"
}

# need_kvm: skip without a usable /dev/kvm (fail inside the bed)
# KVM behaviour is proven in the nested bed, on the KVM a distribution
# kernel has. A development host may have a /dev/kvm of another kind (a
# paravirtual KVM that runs simple guests but lacks what Linux guests and
# vmcall need): its results would say nothing about vmm, so outside the bed
# these tests skip unless VMM_HOST_KVM=1 asks for this host's /dev/kvm.
need_kvm() {
    need_vmm
    if [ -z "${VMM_BED:-}" ] && [ "${VMM_HOST_KVM:-0}" != 1 ]; then
        skip "KVM tests run in the nested test bed (tests/nested/run); VMM_HOST_KVM=1 runs them on this host's /dev/kvm"
    fi
    if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
        return 0
    fi
    [ -n "${VMM_BED:-}" ] && fail "no usable /dev/kvm in the nested test bed"
    skip "no usable /dev/kvm"
}

# firmware NAME: the path of a bundled firmware for this arch (fails if absent)
firmware() {
    [ -e "$VMM_FIRMWARE_DIR/$1-$ARCH.elf" ] || fail "no firmware $VMM_FIRMWARE_DIR/$1-$ARCH.elf"
    echo "$VMM_FIRMWARE_DIR/$1-$ARCH.elf"
}

# vmm ARGS...: run vmm until it ends (at most VMM_TIMEOUT scaled seconds:
# then it is killed and $timed_out says so), stdout to $T/stdout, stderr to
# $T/stderr, its exit status in $status
vmm() {
    cmdline="vmm $*"
    _vlim=$(scaled "$VMM_TIMEOUT")
    _vt0=$(now)
    timeout "$_vlim" "$VMM" "$@" >"$T/stdout" 2>"$T/stderr" </dev/null
    status=$?
    timed_out=
    [ $(($(now) - _vt0)) -lt "$_vlim" ] ||
        timed_out="vmm was still running after $_vlim s (VMM_TIMEOUT=$VMM_TIMEOUT x VMM_SLOW=$VMM_SLOW) and was killed"
}

# wait_until SECONDS WHAT COMMAND...: run COMMAND every 0.1 s until it
# succeeds; after SECONDS (scaled), fail saying that WHAT never happened
# (and, when $wait_show names a file, what that file holds by then)
wait_show=
wait_until() {
    _wlim=$(scaled "$1")
    _wwhat=$2
    shift 2
    _wend=$(($(now) + _wlim))
    until "$@"; do
        if [ "$(now)" -ge "$_wend" ]; then
            [ -z "$wait_show" ] || _wwhat="$_wwhat; $wait_show has: $(cat "$wait_show" 2>/dev/null)"
            fail "waited $_wlim s for $_wwhat"
        fi
        sleep 0.1
    done
    wait_show=
}

# wait_for_file FILE [SECONDS]: until FILE exists (default 20 s, scaled)
wait_for_file() {
    wait_until "${2:-20}" "$1 to appear" test -e "$1"
}

# _has_line FILE REGEX / _has_text FILE TEXT: for wait_until
_has_line() { grep -qE -- "$2" "$1" 2>/dev/null; }
_has_text() { grep -qF -- "$2" "$1" 2>/dev/null; }

# wait_for_line FILE REGEX [SECONDS]: until a line of FILE matches the
# extended REGEX (default 20 s, scaled); the failure shows the file
wait_for_line() {
    wait_show=$1
    wait_until "${3:-20}" "a line matching '$2' in $1" _has_line "$1" "$2"
}

expect_status() {
    [ "$status" = "$1" ] || fail "exit status $status, expected $1"
}

expect_stdout_has() {
    grep -qF -- "$1" "$T/stdout" || fail "stdout lacks '$1'"
}

expect_stdout_lacks() {
    ! grep -qF -- "$1" "$T/stdout" || fail "stdout has '$1'"
}

expect_stderr_has() {
    grep -qF -- "$1" "$T/stderr" || fail "stderr lacks '$1'"
}

# count_lines FILE STRING: how many lines of FILE hold STRING
count_lines() {
    grep -cF -- "$2" "$1"
}

# expect_crash: the guest crashed: status 120, "guest crashed" and a
# register dump with the program counter on stderr
expect_crash() {
    expect_status 120
    grep -qi 'guest crashed' "$T/stderr" || fail "stderr lacks 'guest crashed'"
    case "$ARCH" in
        x86_64) pc=rip ;;
        aarch64) pc=pc ;;
    esac
    grep -qiw "$pc" "$T/stderr" || fail "stderr has no register dump with $pc"
}

# expect_config_error [--no-file] CONFIG WORD...: "vmm run CONFIG" exits 125
# having printed nothing on stdout and exactly one line on stderr, starting
# "vmm: ", naming CONFIG's file (not with --no-file) and at least one WORD
# (when WORDs are given).
# With no /dev/kvm the check must still come first: these run on the host.
expect_config_error() {
    name_file=yes
    if [ "$1" = --no-file ]; then name_file=no; shift; fi
    cfg=$1
    shift
    need_vmm
    vmm run "$cfg"
    expect_status 125
    [ ! -s "$T/stdout" ] || fail "something on stdout"
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected exactly one"
    grep -q '^vmm: ' "$T/stderr" || fail "the message does not start with 'vmm: '"
    if [ "$name_file" = yes ]; then
        expect_stderr_has "${cfg##*/}"
    fi
    [ $# = 0 ] && return 0
    for w in "$@"; do
        grep -qF -- "$w" "$T/stderr" && return 0
    done
    fail "the message names none of: $*"
}

# le VALUE BYTES: VALUE as BYTES little-endian bytes
le() {
    _v=$1 _n=$2
    while [ "$_n" -gt 0 ]; do
        _b=$((_v & 255))
        # shellcheck disable=SC2059 # the format is the byte, in octal
        printf "\\$((_b >> 6))$(((_b >> 3) & 7))$((_b & 7))"
        _v=$((_v >> 8))
        _n=$((_n - 1))
    done
}

# make_elf FILE ARCH ADDR MEMSZ: a minimal ELF64 executable for ARCH with one
# PT_LOAD segment at ADDR of MEMSZ bytes (its first 0x78 bytes are the file's
# own headers; the rest is zero-filled), entry point ADDR
make_elf() {
    case "$2" in
        x86_64) _m=62 ;;
        aarch64) _m=183 ;;
    esac
    {
        printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000'
        le 2 2; le "$_m" 2; le 1 4        # e_type EXEC, e_machine, e_version
        le "$3" 8; le 64 8; le 0 8        # e_entry, e_phoff, e_shoff
        le 0 4; le 64 2; le 56 2; le 1 2  # e_flags, e_ehsize, e_phentsize, e_phnum
        le 64 2; le 0 2; le 0 2           # e_shentsize, e_shnum, e_shstrndx
        le 1 4; le 5 4; le 0 8            # p_type LOAD, p_flags R+X, p_offset
        le "$3" 8; le "$3" 8              # p_vaddr, p_paddr
        le 120 8; le "$4" 8; le 4096 8    # p_filesz, p_memsz, p_align
    } >"$1"
}

# load_addr: where this arch's firmware is linked (1 MiB into RAM)
load_addr() {
    case "$ARCH" in
        x86_64) echo $((0x100000)) ;;
        aarch64) echo $((0x40100000)) ;;
    esac
}

# ---- the control socket (qmp-*.sh) ----
QMP_SOCK=$T/qmp.sock
serve_pid=

# serve_start [ARGS...]: vmm serve on $QMP_SOCK in the background (its
# output in $T/serve.out and $T/serve.err); waits for the socket
# (VMM_SERVE_WORKERS=on|off: vmm serve --workers on|off; the default is on:
# tests/integration/inprocess-*.sh run the same tests with off)
serve_start() {
    need_vmm
    [ -n "${VMM_SERVE_WORKERS:-}" ] && set -- --workers "$VMM_SERVE_WORKERS" "$@"
    cmdline="vmm serve --qmp unix:$QMP_SOCK $*"
    "$VMM" serve --qmp "unix:$QMP_SOCK" "$@" >"$T/serve.out" 2>"$T/serve.err" </dev/null &
    serve_pid=$!
    # the socket answering, not merely there (a stale one may be)
    wait_until 20 "vmm serve's socket $QMP_SOCK to answer" _serve_answers
    # kill it if the test dies on the way
    trap 'kill -KILL $serve_pid 2>/dev/null; rm -rf "$T"' EXIT
}

_serve_answers() {
    kill -0 "$serve_pid" 2>/dev/null || { cat "$T/serve.err"; fail "vmm serve ended at start"; }
    "$VMM" ctl --qmp "$QMP_SOCK" query-version >/dev/null 2>&1
}

# ctl COMMAND [ARGS...]: vmm ctl on $QMP_SOCK (at most 20 s, scaled); output
# in $T/ctl.out and $T/ctl.err, status in $ctl_status
ctl() {
    timeout "$(scaled 20)" "$VMM" ctl --qmp "$QMP_SOCK" "$@" >"$T/ctl.out" 2>"$T/ctl.err" </dev/null
    ctl_status=$?
}

# ctl_ok COMMAND [ARGS...]: ctl, which must succeed
ctl_ok() {
    ctl "$@"
    [ "$ctl_status" = 0 ] || fail "vmm ctl $* exited $ctl_status: $(cat "$T/ctl.err")"
}

# ctl_err TEXT COMMAND [ARGS...]: ctl, which must fail (status 1) with
# TEXT on stderr
ctl_err() {
    _want=$1
    shift
    ctl "$@"
    [ "$ctl_status" = 1 ] || fail "vmm ctl $* exited $ctl_status, expected 1"
    grep -qF -- "$_want" "$T/ctl.err" || fail "vmm ctl $*: stderr lacks '$_want': $(cat "$T/ctl.err")"
}

# status_of VM: its status from query-status
status_of() {
    ctl_ok query-status vm="$1"
    sed -n 's/.*"status" *: *"\([a-z-]*\)".*/\1/p' "$T/ctl.out" | head -n 1
}

# wait_for FILE TEXT [SECONDS]: until FILE holds TEXT (default 20 s, scaled)
wait_for() {
    wait_show=$1
    wait_until "${3:-20}" "'$2' in $1" _has_text "$1" "$2"
}

# events_start: vmm ctl --events in the background, into $T/events; returns
# once it is subscribed (it says so on stderr), so that no event is missed
events_start() {
    "$VMM" ctl --qmp "$QMP_SOCK" --events >"$T/events" 2>"$T/events.err" </dev/null &
    events_pid=$!
    wait_show=$T/events.err
    wait_until 20 "vmm ctl --events to subscribe" _events_ready
}
_events_ready() {
    kill -0 "$events_pid" 2>/dev/null || fail "vmm ctl --events ended: $(cat "$T/events.err")"
    grep -q 'following events' "$T/events.err" 2>/dev/null
}

# serve_quit: quit, then vmm serve must end (status 0) and its socket go
# children_of PID: the processes whose parent is PID
children_of() {
    for _s in /proc/[0-9]*/stat; do
        { read -r _pid _comm _state _ppid _rest <"$_s"; } 2>/dev/null || continue
        [ "$_ppid" = "$1" ] && echo "$_pid"
    done
}

# worker_of NAME: the worker process of the VM whose console file is
# $T/NAME.console (vmm serve > its workers' launcher > the workers)
worker_of() {
    for _l in $(children_of "$serve_pid"); do
        for _p in $(children_of "$_l"); do
            ls -l "/proc/$_p/fd" 2>/dev/null | grep -qF "$T/$1.console" && echo "$_p"
        done
    done
}

# serve_workers: every worker process of vmm serve
serve_workers() {
    for _l in $(children_of "$serve_pid"); do children_of "$_l"; done
}

serve_quit() {
    ctl_ok quit
    wait_until 20 "vmm serve to end after quit" _serve_gone
    wait "$serve_pid"
    status=$?
    [ "$status" = 0 ] || fail "vmm serve exited $status after quit: $(cat "$T/serve.err")"
    [ ! -e "$QMP_SOCK" ] || fail "the socket is still there after quit"
}

# ---- Linux guests (tests/integration/linux-*.sh) ----
# VMM_LINUX_KERNEL  the kernel to boot (default: the nested bed's own,
#                   /vmm/testbed/vmlinuz, or .cache/testbed/vmlinuz-ARCH)
# VMM_LINUX_BUSYBOX a static busybox for ARCH (default: /bin/busybox in the
#                   bed, .cache/testbed/busybox-aarch64 or /bin/busybox)
# VMM_EXIT_TOOL     tools/vmm-exit built for ARCH
# VMM_VSOCK_ECHO    tests/tools/vsock-echo built (static) for ARCH

_serve_gone() { ! kill -0 "$serve_pid" 2>/dev/null; }

# need_linux: skip unless a kernel, a static busybox and vmm-exit are there
need_linux() {
    need_kvm
    for _k in "${VMM_LINUX_KERNEL:-}" /vmm/testbed/vmlinuz "$VMM_SRCDIR/.cache/testbed/vmlinuz-$ARCH"; do
        if [ -n "$_k" ] && [ -r "$_k" ]; then LINUX_KERNEL=$_k; break; fi
    done
    [ -n "${LINUX_KERNEL:-}" ] || skip "no Linux kernel for $ARCH (set VMM_LINUX_KERNEL)"
    if [ -z "${VMM_LINUX_BUSYBOX:-}" ]; then
        if [ -n "${VMM_BED:-}" ]; then VMM_LINUX_BUSYBOX=/bin/busybox
        elif [ "$ARCH" = aarch64 ]; then VMM_LINUX_BUSYBOX=$VMM_SRCDIR/.cache/testbed/busybox-aarch64
        else VMM_LINUX_BUSYBOX=/bin/busybox
        fi
    fi
    [ -r "$VMM_LINUX_BUSYBOX" ] || skip "no static busybox for $ARCH (set VMM_LINUX_BUSYBOX)"
    for _k in "${VMM_EXIT_TOOL:-}" /vmm/testbed/vmm-exit; do
        if [ -n "$_k" ] && [ -x "$_k" ]; then EXIT_TOOL=$_k; break; fi
    done
    [ -n "${EXIT_TOOL:-}" ] || skip "no vmm-exit helper (set VMM_EXIT_TOOL)"
}

# need_test_program NAME VAR: skip unless the static test program NAME
# (tests/tools/, packed into the bed's /vmm/testbed) is there, or $VAR
# names it; its path in TEST_PROGRAM, and linux_initrd puts it in the
# guest's PATH
need_test_program() {
    TEST_PROGRAM=
    for _k in "$(eval echo "\${$2:-}")" "/vmm/testbed/$1"; do
        if [ -n "$_k" ] && [ -x "$_k" ]; then TEST_PROGRAM=$_k; break; fi
    done
    [ -n "$TEST_PROGRAM" ] || skip "no $1 test program (set $2)"
    LINUX_BINS="${LINUX_BINS:-} $TEST_PROGRAM"
}

# need_vsock_echo: need_test_program for vsock-echo (VSOCK_ECHO: for the
# host side)
need_vsock_echo() {
    need_test_program vsock-echo VMM_VSOCK_ECHO
    VSOCK_ECHO=$TEST_PROGRAM
}

# linux_initrd BODY: $T/initrd, a busybox initramfs whose /init mounts the
# basics, prints "init: up", loads the guest modules need_linux_module
# named, then runs BODY (sh code; vmm-exit and the programs in LINUX_BINS
# are in PATH)
linux_initrd() {
    _r=$T/initrd-root
    rm -rf "$_r"
    mkdir -p "$_r/bin" "$_r/sbin" "$_r/usr/bin" "$_r/usr/sbin" "$_r/proc" "$_r/sys" "$_r/dev" "$_r/tmp" \
        "$_r/lib/modules"
    cp "$VMM_LINUX_BUSYBOX" "$_r/bin/busybox"
    cp "$EXIT_TOOL" "$_r/bin/vmm-exit"
    for _b in ${LINUX_BINS:-}; do
        cp "$_b" "$_r/bin/" || fail "cannot copy $_b into the initramfs"
    done
    for _m in ${LINUX_MODULES:-}; do
        cp "$(linux_module_path "$_m")" "$_r/lib/modules/$_m.ko" || fail "no guest module $_m"
    done
    {
        echo '#!/bin/busybox sh'
        echo '/bin/busybox --install -s'
        echo 'mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev'
        # no /dev/console in the archive: the kernel could not open one for us
        echo 'exec </dev/console >/dev/console 2>&1'
        echo 'echo "init: up"'
        for _m in ${LINUX_MODULES:-}; do
            echo "insmod /lib/modules/$_m.ko || echo \"init: insmod $_m failed\""
        done
        echo "$1"
        echo 'echo "init: fell off the end"; vmm-exit 99'
    } >"$_r/init"
    chmod 755 "$_r/init" "$_r/bin/busybox" "$_r/bin/vmm-exit"
    (cd "$_r" && find . | cpio -o -H newc 2>/dev/null) >"$T/initrd" || fail "cpio failed"
}

# linux_module_path NAME: the guest kernel's module NAME.ko (the bed
# packs them; scripts/setup extracts them from the kernel packages)
linux_module_path() {
    for _p in /vmm/testbed/modules/$1.ko "$VMM_SRCDIR/.cache/testbed/guest-modules-$ARCH/$1.ko"; do
        [ -r "$_p" ] && { echo "$_p"; return 0; }
    done
    return 1
}

# need_linux_module NAME...: skip unless each guest module is there; then
# linux_initrd loads them (LINUX_MODULES) before the test's commands
need_linux_module() {
    for _m in "$@"; do
        linux_module_path "$_m" >/dev/null || skip "no guest module $_m for $ARCH (run scripts/setup)"
    done
    LINUX_MODULES="${LINUX_MODULES:-} $*"
}

# LINUX_BED_APPEND: what every Linux guest of two vCPUs or more gets on its
# command line in the bed. x86_64: tsc=reliable. Under QEMU's emulation of
# a loaded host the guest's clocksource watchdog (or its TSC sync check)
# may find the TSC unstable while both vCPUs run; the kernel then turns
# off the __sched_clock_stable static key by patching its text with int3,
# and TCG now and then runs a stale int3 of that patching on the other
# vCPU: the guest oopses ("Oops: int3" in sched_clock_idle_wakeup_event or
# sched_clock_cpu, seen in CI twice) and panics, whatever vmm does. With
# the TSC taken as reliable there is no such flip after boot. It changes
# the guest's choice of clock checks only, nothing vmm is tested on.
#
# x86_64 also: noxsave. The bed's KVM never learns a nested guest's XSETBV
# (most likely QEMU 7.2's TCG does not emulate SVM's XSETBV intercept:
# inferred from what follows, not read in QEMU's source), so KVM's idea of
# the guest's XCR0 and the CPU's part: every guest kernel warned "XSAVE
# consistency problem: size 2696 != kernel_size 576" (CPUID 0xd's size,
# which KVM keeps from the XCR0 it saw) and fell back to FXSAVE, tainted,
# with XCR0 already changed behind KVM's back, whose own saves and restores
# of FPU state then use an XCR0 it did not set. With noxsave the guest
# never writes XCR0. vmm passes KVM's XSAVE leaves through untouched; no
# test is about them.
LINUX_BED_APPEND=
[ "$ARCH" = x86_64 ] && LINUX_BED_APPEND="tsc=reliable noxsave"
# LINUX_CPUS: the vCPUs of a Linux guest whose test is not about SMP: 1 on
# x86_64, 2 on aarch64. tsc=reliable did not end the stale int3s above:
# the kernel flips other static keys once its second CPU is up ("Oops:
# int3" in account_process_tick and sched_clock_idle_wakeup_event since),
# and only an x86_64 guest of two vCPUs or more meets them. SMP on x86_64
# is the subject of linux-boot, linux-qmp, linux-smp4 and linux-hyperv,
# which ask for their own count; on aarch64 every Linux test runs two
# vCPUs. The cause is gone since the x86_64 bed has one vCPU
# (tests/nested/run, qemu_cmd); two vCPUs for every x86_64 Linux test is
# still to be tried in CI.
LINUX_CPUS=2
[ "$ARCH" = x86_64 ] && LINUX_CPUS=1
# LINUX_CONSOLE: the console= for this arch's UART
LINUX_CONSOLE=console=ttyS0
[ "$ARCH" = aarch64 ] && LINUX_CONSOLE=console=ttyAMA0

# linux_cmdline [WORDS]: the tests' Linux command line, WORDS (default
# "quiet") after the console and panic=-1, then LINUX_BED_APPEND
linux_cmdline() {
    echo "$LINUX_CONSOLE panic=-1 ${1:-quiet} $LINUX_BED_APPEND"
}

# vmm_linux [VMM ARGS...]: boot LINUX_KERNEL with $T/initrd, LINUX_CPUS, 256M
# and the quiet command line $LINUX_APPEND unless the ARGS override them
LINUX_APPEND=${LINUX_APPEND:-}
vmm_linux() {
    vmm run --kernel "$LINUX_KERNEL" --initrd "$T/initrd" --cpus "$LINUX_CPUS" --memory 256M \
        --append "$(linux_cmdline "$LINUX_APPEND")" "$@"
}
