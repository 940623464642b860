/*
 * Where vmm puts its own structures in a guest's RAM, per architecture and
 * boot kind (src/arch/<arch>/layout.c): one pure function that the config
 * check (before KVM is opened) and VM creation both use, so a machine that
 * passed the check is the machine that gets built.
 */
#ifndef VMM_LAYOUT_H
#define VMM_LAYOUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define LAYOUT_MAX_REGIONS 12

struct layout_region {
    const char *name;
    uint64_t gpa, size;
};

struct vm_layout {
    uint64_t ram_base, ram_size;
    unsigned nr_vcpus;
    bool linux_boot;
    /* What vmm reserves (never overlapping, all inside RAM). */
    struct layout_region regions[LAYOUT_MAX_REGIONS];
    unsigned nr_regions;
    /* Where images go: the firmware's segments, or the kernel and initrd.
     * Inside RAM and clear of every region. */
    uint64_t load_lo, load_hi;
    uint64_t ucall_gpa;     /* nr_vcpus structures of VMM_UCALL_STRIDE */
    uint64_t stacks_top;    /* x86_64 firmware: vCPU i's stack ends 64 KiB * i below */
    uint64_t dtb_gpa;       /* aarch64: the device tree */
};

/* Lays out a machine with @ram_size bytes of RAM and @nr_vcpus vCPUs
 * booting firmware or (@linux_boot) a Linux kernel. False, with a one-line
 * config error ("... needs at least N MiB of RAM for V vCPUs; raise
 * vm.memory"), when that machine cannot exist. Pure. */
bool arch_layout(uint64_t ram_size, unsigned nr_vcpus, bool linux_boot, struct vm_layout *l,
                 GError **error);

/* The most vCPUs arch_layout accepts for @linux_boot. */
unsigned arch_layout_max_vcpus(bool linux_boot);

#endif
