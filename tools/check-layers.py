#!/usr/bin/env python3
"""The layers of vmm and the arrows allowed between them, checked.

    check-layers.py check SOURCE_ROOT   fails on an include that reaches a layer
                                        the including file's layer may not use
    check-layers.py doc                 prints the table for docs/architecture.md
    check-layers.py uses LAYER          prints the layers LAYER may use (meson
                                        links each layer's library with those)

A file's layer is its folder (src/<layer>/, src/arch/<arch>/ is "arch",
lib/toml/ is "toml"); a header's layer is in HEADERS below. A new header
or folder must be given a layer here: the check refuses what it cannot
place. The guest ABI (include/vmm-guest/) is a contract every layer may
read.
"""
import os
import re
import sys

# layer: (what it is, the layers it may use). Listed bottom-up.
LAYERS = {
    "toml": ("the TOML reader (lib/toml/)", []),
    "base": ("errors and logging, bounded output, waits, capabilities, seccomp, the worker sandbox and cgroups, loading json-glib", []),
    "core": ("KVM, the VM and its vCPU loop, guest memory, the I/O registry, interrupts, "
             "the console, the device model and machine table types, the arch interface",
             ["base"]),
    "images": ("reading firmware and kernel files; ELF and Linux image formats (pure)",
               ["base", "core"]),
    "virtio": ("virtio: split virtqueues over guest memory, checked against a hostile driver",
               ["base", "core"]),
    "devices": ("device models", ["base", "core", "virtio"]),
    "calls": ("guest calls: the policy, the dispatcher and its handlers, ucall",
              ["base", "core"]),
    "arch": ("one folder per architecture: vCPU set-up, call conduits, the machine table, "
             "ACPI or device tree, layout, image formats",
             ["base", "core", "images", "virtio", "devices", "calls"]),
    "config": ("the config schema and the VM config and policy it reads",
               ["toml", "base", "core", "images", "calls", "arch"]),
    "boot": ("a checked config into a machine: the VM, its policy, its firmware or kernel; "
             "host-root mode's generated initramfs",
             ["base", "core", "images", "virtio", "devices", "calls", "arch", "config"]),
    "manager": ("many VMs, their states, service-guest host calls, monitors; "
                "its config file; the KVM backend; the worker backend, its protocol and "
                "the worker loop",
                ["toml", "base", "core", "calls", "config", "boot"]),
    "control": ("the QMP control socket", ["base", "core", "calls", "config", "manager"]),
    "cli": ("vmm run, vmm serve, vmm ctl",
            ["toml", "base", "core", "images", "virtio", "devices", "calls", "arch", "config", "boot",
             "manager", "control"]),
}

HEADERS = {
    "toml": ["toml"],
    "base": ["error", "caps", "seccomp", "sandbox", "cgroup", "json_load", "json_symbols", "outbuf", "wait"],
    "core": ["kvm", "vm", "vm-stop", "memory", "guest_mem", "iobus", "irq", "irq_routes",
             "console", "console-input", "console_status", "arch", "device", "machine"],
    "images": ["loader", "linux"],
    "virtio": ["virtqueue", "virtio*", "vhost_user"],
    "devices": ["hw/*"],
    "calls": ["calls", "policy", "ucall", "vm-host"],
    "arch": ["layout"],
    "config": ["config", "schema"],
    "boot": ["boot", "hostroot"],
    "manager": ["manager", "worker_proto", "worker"],
    "control": ["qmp"],
    "cli": ["serve"],
}


def header_layer(name):
    for layer, names in HEADERS.items():
        for n in names:
            if n == name or (n.endswith("/*") and name.startswith(n[:-1])):
                return layer
    return None


def file_layer(rel):
    parts = rel.split(os.sep)
    if parts[:2] == ["lib", "toml"]:
        return "toml"
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    if parts[:2] == ["include", "vmm"]:
        return header_layer(os.path.splitext("/".join(parts[2:]))[0])
    return None


def check(root):
    problems = []
    for top in ("src", "lib", os.path.join("include", "vmm")):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                rel = os.path.relpath(os.path.join(d, f), root)
                layer = file_layer(rel)
                if layer not in LAYERS:
                    problems.append(f"{rel}: in no layer (give its folder or header one in "
                                    f"tools/check-layers.py)")
                    continue
                with open(os.path.join(root, rel), encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m:
                            continue
                        inc = m.group(1)
                        if inc.startswith("../"):
                            problems.append(f"{rel}:{n}: includes {inc} by a relative path")
                            continue
                        if not inc.startswith("vmm/"):
                            continue  # vmm-guest/ (the ABI) or a file of its own folder
                        to = header_layer(os.path.splitext(inc[4:])[0])
                        if to is None:
                            problems.append(f"{rel}:{n}: {inc} is in no layer")
                        elif to != layer and to not in LAYERS[layer][1]:
                            problems.append(f"{rel}:{n}: {layer} may not use {to} ({inc})")
    for p in problems:
        print(p)
    if problems:
        sys.exit(f"{len(problems)} include(s) against the layers (tools/check-layers.py)")


def doc():
    print("| layer | folder | what | may use |")
    print("|---|---|---|---|")
    for layer, (what, uses) in LAYERS.items():
        folder = "lib/toml/" if layer == "toml" else (
            "src/arch/{x86_64,aarch64}/" if layer == "arch" else f"src/{layer}/")
        print(f"| {layer} | `{folder}` | {what} | {', '.join(uses) or '-'} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        check(sys.argv[2])
    elif len(sys.argv) == 2 and sys.argv[1] == "doc":
        doc()
    elif len(sys.argv) == 3 and sys.argv[1] == "uses" and sys.argv[2] in LAYERS:
        print(" ".join(LAYERS[sys.argv[2]][1]))
    else:
        sys.exit(__doc__.strip())
