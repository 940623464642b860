#!/bin/sh
# tools/vmm-qemu-shim on the command lines kvm-unit-tests' x86/run writes,
# against a stand-in vmm that records its arguments (no KVM needed): the
# line every x86 test gets becomes `vmm run --kernel ... --append ...`,
# the status passes through as isa-debug-exit made it, -device '?' lists
# what x86/run looks for, pc-testdev becomes --pc-test-device on,
# pci-testdev --pci-test-device on, -machine pit=off --pit off, -cpu's +/-features
# become --cpu-features, hv_passthrough --hyperv on, and what vmm cannot honour (a CPU model unless
# VMM_SHIM_CPU_MODEL=host) is refused with one line.
. "$(dirname "$0")/lib.sh"
SHIM=$VMM_SRCDIR/tools/vmm-qemu-shim
# A host test (no KVM): meson test runs it on the host. The bed has no bash
# on its PATH and the shim is bash: kut-x86_64 drives the shim there.
[ -z "${VMM_BED:-}" ] || skip "a host test: meson test runs it on the host (kut-x86_64 covers the bed)"
BASH_BIN=$(command -v bash) || skip "no bash to run the shim"
cat >"$T/vmm" <<'FAKE'
#!/bin/sh
[ "$1" = --version ] && { echo "vmm 0.1.0 (x86_64)"; exit 0; }
printf '%s\n' "$@" >"$(dirname "$0")/args"
exit 1
FAKE
chmod +x "$T/vmm"
: >"$T/k.flat"
shim() { VMM=$T/vmm "$BASH_BIN" "$SHIM" "$@" >"$T/out" 2>"$T/err"; }

# x86/run's probes: it runs nothing unless pc-testdev or testdev is listed
shim -device '?' || fail "-device '?' failed"
grep -qF '"pc-testdev"' "$T/out" || fail "-device '?' does not list pc-testdev"
# x86/run (and arm/run) add -device pci-testdev when it is listed
grep -qF 'pci-testdev' "$T/out" || fail "-device '?' does not list pci-testdev"
grep -qF -e '"testdev"' "$T/out" && fail "-device '?' lists testdev, which vmm has not"

# the line x86/run writes for msr-like tests (-cpu max)
shim --no-reboot -nodefaults -global kvm-pit.lost_tick_policy=discard \
    -device pc-testdev -device isa-debug-exit,iobase=0xf4,iosize=0x4 -display none \
    -serial stdio -device pci-testdev -machine accel=kvm -kernel "$T/k.flat" -smp 2 \
    -cpu max -m 64 -append '-v arg' -initrd "$T/env"
st=$?
[ "$st" = 1 ] || fail "status $st, expected vmm's 1 (isa-debug-exit's pass) unchanged"
printf 'run\n--kernel\n%s\n--initrd\n%s\n--append\n-v arg\n--cpus\n2\n--memory\n64M\n--pci-test-device\non\n--pc-test-device\non\n' \
    "$T/k.flat" "$T/env" >"$T/want"
cmp -s "$T/args" "$T/want" || { diff "$T/want" "$T/args"; fail "vmm got other arguments"; }
# scripts/vmm.bash takes a stderr line without "warning" beside status 1
# for a QEMU failure: nothing on stderr
[ ! -s "$T/err" ] || { cat "$T/err"; fail "the shim said something on stderr"; }

# -cpu's feature list becomes --cpu-features (vmm checks what KVM can give)
shim -kernel "$T/k.flat" -cpu max,host-phys-bits,+x2apic,-pcid,tsc-deadline=on,umip=off
st=$?
[ "$st" = 1 ] || fail "-cpu max with features: status $st, expected vmm's 1"
grep -qx -- --cpu-features "$T/args" && grep -qx -- '+x2apic,-pcid,+tsc-deadline,-umip' "$T/args" ||
    { cat "$T/args" "$T/err"; fail "-cpu max's features are not vmm's --cpu-features"; }
# +NAME the host's CPU lacks is left out with a warning, as QEMU does
rm -f "$T/args"
if grep -qE '^flags[[:space:]]*:.* la57( |$)' /proc/cpuinfo; then
    shim -kernel "$T/k.flat" -cpu max,+la57,-pcid
    grep -qx -- '+la57,-pcid' "$T/args" || fail "+la57 not passed on though the host has it"
else
    shim -kernel "$T/k.flat" -cpu max,+la57,-pcid
    st=$?
    [ "$st" = 1 ] || { cat "$T/err"; fail "+la57 on a host without it: status $st, expected vmm's 1"; }
    grep -qx -- '-pcid' "$T/args" || { cat "$T/args"; fail "+la57: not left out (or -pcid lost)"; }
    [ "$(wc -l <"$T/err")" = 1 ] && grep -q 'warning.*no la57.*left out' "$T/err" ||
        { cat "$T/err"; fail "+la57: not said once as a warning"; }
fi
# -enable-kvm (no value: what vmm always is) before an option that has one
# (unittests.cfg's cet and lam)
rm -f "$T/args"
shim -enable-kvm -kernel "$T/k.flat" -cpu max
st=$?
[ "$st" = 1 ] && grep -qx -- "$T/k.flat" "$T/args" || { cat "$T/err"; fail "-enable-kvm: status $st, not honoured"; }
# -machine pit=off (vmexit_ipi) becomes --pit off; pit=on is the default
rm -f "$T/args"
shim -machine pc,pit=off -kernel "$T/k.flat"
st=$?
[ "$st" = 1 ] && grep -qx -- --pit "$T/args" && grep -qx -- off "$T/args" ||
    { cat "$T/args" "$T/err"; fail "-machine pit=off: status $st, not vmm's --pit off"; }
rm -f "$T/args"
shim -machine pit=on -kernel "$T/k.flat"
[ "$?" = 1 ] && ! grep -qx -- --pit "$T/args" || { cat "$T/args" "$T/err"; fail "-machine pit=on"; }
# hv_passthrough (either spelling) becomes --hyperv on, nothing else
for hv in hv_passthrough hv-passthrough hv_passthrough=on; do
    rm -f "$T/args"
    shim -kernel "$T/k.flat" -cpu "host,$hv"
    st=$?
    [ "$st" = 1 ] || { cat "$T/err"; fail "-cpu host,$hv: status $st, expected vmm's 1"; }
    printf 'run\n--kernel\n%s\n--append\n\n--hyperv\non\n' "$T/k.flat" >"$T/want"
    cmp -s "$T/args" "$T/want" || { diff "$T/want" "$T/args"; fail "-cpu host,$hv: not --hyperv on"; }
done
rm -f "$T/args"
shim -kernel "$T/k.flat" -cpu host,hv_passthrough,hv_passthrough=off
grep -qx -- --hyperv "$T/args" && fail "hv_passthrough=off still gave --hyperv"
# -device hyperv-testdev becomes --hyperv-test-device on (with hv_passthrough,
# which it needs)
rm -f "$T/args"
shim -kernel "$T/k.flat" -cpu host,hv_passthrough -device hyperv-testdev
grep -qx -- --hyperv-test-device "$T/args" || { cat "$T/args" "$T/err"; fail "-device hyperv-testdev: not --hyperv-test-device"; }
# a model runs as the host's CPU only when asked, said as a warning
VMM_SHIM_CPU_MODEL=host
export VMM_SHIM_CPU_MODEL
shim -kernel "$T/k.flat" -cpu qemu64,-x2apic,+tsc-deadline
st=$?
unset VMM_SHIM_CPU_MODEL
[ "$st" = 1 ] || fail "-cpu qemu64 (VMM_SHIM_CPU_MODEL=host): status $st"
grep -qx -- '-x2apic,+tsc-deadline' "$T/args" || { cat "$T/args"; fail "qemu64's features lost"; }
[ "$(wc -l <"$T/err")" = 1 ] && grep -q 'warning.*qemu64.*host' "$T/err" ||
    { cat "$T/err"; fail "the model's approximation is not said once as a warning"; }

# refused, one line each, vmm never run
for bad in "-cpu qemu64,+x2apic" "-cpu qemu64" "-cpu max,vendor=NoSuchVendor" "-cpu max,+svm" \
           "-cpu max,phys-bits=36" "-cpu host,migratable=no" "-machine pit=maybe" \
           "-global kvm-pit.lost_tick_policy=delay" "-device pci-testdev,membar=4096" \
           "-cpu qemu64,hv_passthrough" "-cpu host,hv-vpindex" "-device hyperv-testdev"; do
    rm -f "$T/args"
    # shellcheck disable=SC2086 # each case is an option and its value
    shim -kernel "$T/k.flat" $bad && fail "$bad accepted"
    [ "$(wc -l <"$T/err")" = 1 ] || { cat "$T/err"; fail "$bad: not one line"; }
    [ ! -e "$T/args" ] || fail "$bad: vmm ran"
done
echo "PASS"
