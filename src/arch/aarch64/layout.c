/*
 * The aarch64 machine's RAM layout (include/vmm/layout.h): the device tree
 * takes the last 2 MiB of RAM, one ucall structure per vCPU the pages
 * below it; images (firmware, or the kernel and initrd) load between the
 * start of RAM and the ucall structures. The vCPU count is bounded by the
 * GIC redistributor frames that fit below the PL011. Pure, with no arm64
 * header: unit tests and fuzzers build it on any host.
 */
#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "arm-layout.h"

#define MIB ((uint64_t)1 << 20)

unsigned arch_layout_max_vcpus(bool linux_boot)
{
    return (VMM_ARM_PL011_BASE - VMM_ARM_GICR_BASE) / GICR_STRIDE;
}

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

bool arch_layout(uint64_t ram_size, unsigned nr_vcpus, bool linux_boot, struct vm_layout *l,
                 GError **error)
{
    uint64_t ucall = (uint64_t)nr_vcpus * VMM_UCALL_STRIDE;
    uint64_t base = VMM_ARM_RAM_BASE;
    uint64_t ram = ram_size & ~0xfffULL; /* whole pages: the structures are page-aligned */

    *l = (struct vm_layout){
        .ram_base = base, .ram_size = ram_size, .nr_vcpus = nr_vcpus, .linux_boot = linux_boot,
    };
    if (nr_vcpus == 0)
        return fail("vm.vcpus: a machine needs at least one vCPU");
    if (nr_vcpus > arch_layout_max_vcpus(linux_boot))
        return fail("vm.vcpus: %u vCPUs do not fit this machine's GIC redistributor space "
                    "(at most %u)", nr_vcpus, arch_layout_max_vcpus(linux_boot));
    /* Guest-physical addresses end at 2^48 at most (the IPA size). */
    if (ram_size > (1ULL << 48) - base)
        return fail("vm.memory: %" G_GUINT64_FORMAT " MiB is more than this machine can "
                    "address", ram_size / MIB);
    /* Images need at least a page below the reservations. */
    if (ram < DTB_MAX_SIZE + ucall + 0x1000)
        return fail("vm.memory: %" G_GUINT64_FORMAT " MiB is too small: this machine needs "
                    "at least %" G_GUINT64_FORMAT " MiB of RAM for %u vCPU%s (a 4 KiB ucall "
                    "structure each, and 2 MiB for the device tree); raise vm.memory",
                    ram_size / MIB, (guint64)((DTB_MAX_SIZE + ucall) / MIB + 1), nr_vcpus,
                    nr_vcpus == 1 ? "" : "s");
    l->dtb_gpa = base + ram - DTB_MAX_SIZE;
    l->ucall_gpa = l->dtb_gpa - ucall;
    l->load_lo = base;
    l->load_hi = l->ucall_gpa;
    l->regions[l->nr_regions++] = (struct layout_region){ "ucall structures", l->ucall_gpa, ucall };
    l->regions[l->nr_regions++] = (struct layout_region){ "device tree", l->dtb_gpa, DTB_MAX_SIZE };
    return true;
}
