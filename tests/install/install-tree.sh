#!/bin/sh
# install-tree.sh BUILDDIR PREFIX BINDIR DATADIR LIBEXECDIR MANDIR COMPLETIONSDIR ARCH
# `meson install --destdir` of BUILDDIR into a temporary folder puts every
# file where the README says, and the installed vmm, with no
# VMM_FIRMWARE_DIR, reads its firmware from <prefix>/<libexecdir>/vmm/firmware:
# run from the DESTDIR copy it names that path (the copy cannot be found at
# the final prefix); where this user may make a mount namespace, the copy
# is laid over the prefix itself and the hello guest's config and firmware
# are read from there.
set -u
build=$1 prefix=$2 bindir=$3 datadir=$4 libexecdir=$5 mandir=$6 compdir=$7 arch=$8
fail() { echo "FAIL: $*"; exit 1; }
abs() { case $1 in /*) echo "$1" ;; *) echo "$prefix/$1" ;; esac; }

T=$(mktemp -d "${TMPDIR:-/tmp}/vmm-install.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
dest=$T/root
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$T/install.out" 2>&1 ||
    { cat "$T/install.out"; fail "meson install failed"; }

fwdir=$(abs "$libexecdir")/vmm/firmware
for f in "$(abs "$bindir")/vmm" "$fwdir/hello-$arch.elf" "$(abs "$libexecdir")/vmm/vmm-exit" \
         "$(abs "$libexecdir")/vmm/vmm-init" \
         "$(abs "$mandir")/man1/vmm.1" "$(abs "$compdir")/vmm" \
         "$(abs "$datadir")/doc/vmm/examples/hello.toml"; do
    [ -f "$dest$f" ] || fail "not installed: $f (in $dest)"
done
[ -x "$dest$(abs "$bindir")/vmm" ] || fail "$(abs "$bindir")/vmm is not executable"
# only this architecture's firmware: an installed vmm runs no other
other=$(ls "$dest$fwdir" | grep -v -- "-$arch\.elf\$")
[ -z "$other" ] || fail "firmware of another architecture installed: $other"

vmm=$dest$(abs "$bindir")/vmm
config=$dest$(abs "$datadir")/doc/vmm/examples/hello.toml
# A config naming firmware that is nowhere: the message names the path
# the installed vmm looked at.
printf '[boot]\nfirmware = "no-such-firmware"\n' >"$T/none.toml"
env -u VMM_FIRMWARE_DIR "$vmm" run "$T/none.toml" >"$T/out" 2>&1
st=$?
[ "$st" = 125 ] || { cat "$T/out"; fail "a missing firmware: status $st, not 125"; }
grep -q "$fwdir/no-such-firmware-$arch.elf" "$T/out" ||
    { cat "$T/out"; fail "the installed vmm did not look in $fwdir"; }
echo "the installed vmm looks for firmware in $fwdir"

# The copy at the prefix itself: in a mount namespace of our own, the
# installed files laid over the prefix's own (overlayfs, so that the
# libraries vmm links, under /usr, stay where they are).
if ! unshare -rm true 2>/dev/null || [ ! -d "$prefix" ]; then
    echo "no mount namespace here (unshare -rm): the run at the prefix is left out"
    exit 0
fi
env -u VMM_FIRMWARE_DIR unshare -rm sh -c '
    mount -t overlay overlay -o "lowerdir=$1:$2" "$2" || exit 99
    exec "$3" run --timeout 30 "$4"' _ "$dest$prefix" "$prefix" "$(abs "$bindir")/vmm" \
    "$(abs "$datadir")/doc/vmm/examples/hello.toml" >"$T/out" 2>&1
st=$?
[ "$st" = 99 ] && { cat "$T/out"; echo "cannot lay the copy over $prefix: the run there is left out"; exit 0; }
# 0: it ran (this host's /dev/kvm); 126: no usable /dev/kvm. Either way the
# config and its firmware were read: 125 would be the firmware not found.
case $st in
    0|126) ;;
    *) cat "$T/out"; fail "the installed hello at $prefix: status $st" ;;
esac
grep -q "firmware\|hello-$arch" "$T/out" && { cat "$T/out"; fail "a firmware message"; }
echo "the installed vmm at $prefix found its firmware (status $st)"
exit 0
