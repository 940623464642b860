#!/bin/sh
# The manager config (vmm serve --config) is read with the config schema:
# a mistake ends vmm serve with 125 and one line naming the file, the
# position and the key. An image's name must make VM names ("<name>-<id>"):
# "a b" or a 60-character name used to be accepted, and then every
# VM_CREATE of that image failed. Needs no KVM.
. "$(dirname "$0")/lib.sh"
need_vmm
printf '[boot]\nfirmware = "hello"\n' >"$T/img.toml"
# manager_error TEXT EXPECTED...
manager_error() {
    printf '%b' "$1" >"$T/manager.toml"
    shift
    vmm serve --qmp "unix:$QMP_SOCK" --config "$T/manager.toml"
    expect_status 125
    n=$(grep -c '' "$T/stderr")
    [ "$n" = 1 ] || fail "$n lines on stderr, expected one: $(cat "$T/stderr")"
    for words in "$@"; do
        expect_stderr_has "$words"
    done
}
manager_error '[sever]\n' "$T/manager.toml:1:1: unknown section [sever]"
manager_error '[quota]\nvsm = 1\n' "$T/manager.toml:2:1: unknown key \"vsm\" in [quota]" \
    'did you mean "vms"?'
manager_error '[quota]\nvms = 2000\n' "quota.vms: 2000 is out of range (0 to 1024)"
manager_error '[[image]]\nname = "a b"\nconfig = "img.toml"\n' \
    "$T/manager.toml:2:1: image[0].name: \"a b\" is not a name for VMs"
long=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
manager_error "[[image]]\\nname = \"$long\"\\nconfig = \"img.toml\"\\n" \
    "image[0].name: \"$long\" is not a name for VMs (they are named <name>-<id>"
manager_error '[[vm]]\nconfig = "img.toml"\nname = "a/b"\n' \
    "$T/manager.toml:3:1: vm[0].name: \"a/b\" is not a VM name"
exit 0
