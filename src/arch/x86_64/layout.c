/*
 * The x86_64 machine's RAM layout (include/vmm/layout.h). Below 1 MiB:
 * the GDT, the identity-map page tables and, for Linux, the real-mode IVT
 * (a multiboot kernel's), the zero page,
 * command line and the BIOS hole (ACPI tables, reset vector). Firmware
 * guests get a 64 KiB stack per vCPU at the top of mapped RAM and the
 * ucall structures below them; a Linux guest needs no stacks, so its
 * ucall structures end RAM. Images load between 1 MiB and the lowest
 * per-vCPU reservation. Pure: compiled into the unit tests and fuzzers.
 */
#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "layout.h"
#include "x86-linux.h"

#define MIB ((uint64_t)1 << 20)

uint64_t x86_mapped_gib(uint64_t ram_size)
{
    uint64_t gib = ram_size / (1ULL << 30) + (ram_size % (1ULL << 30) != 0);

    return MIN(MAX(gib, 4), X86_MAX_MAPPED_GIB);
}

static void add(struct vm_layout *l, const char *name, uint64_t gpa, uint64_t size)
{
    g_assert(l->nr_regions < LAYOUT_MAX_REGIONS);
    l->regions[l->nr_regions++] = (struct layout_region){ name, gpa, size };
}

unsigned arch_layout_max_vcpus(bool linux_boot)
{
    /* Firmware: only RAM limits it (and KVM, checked when it is opened). */
    return linux_boot ? X86_LINUX_MAX_VCPUS : G_MAXUINT;
}

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)

bool arch_layout(uint64_t ram_size, unsigned nr_vcpus, bool linux_boot, struct vm_layout *l,
                 GError **error)
{
    uint64_t ucall = (uint64_t)nr_vcpus * VMM_UCALL_STRIDE;
    uint64_t stacks = linux_boot ? 0 : (uint64_t)nr_vcpus * VMM_X86_STACK_SIZE;
    /* Page tables map all of RAM (at least 4 GiB, at most 128 GiB): the
     * per-vCPU structures must be reachable, so they end mapped RAM. */
    uint64_t top = MIN(ram_size, x86_mapped_gib(ram_size) << 30) & ~0xfffULL;

    *l = (struct vm_layout){
        .ram_base = VMM_X86_RAM_BASE, .ram_size = ram_size, .nr_vcpus = nr_vcpus,
        .linux_boot = linux_boot,
    };
    if (nr_vcpus == 0)
        return fail("vm.vcpus: a machine needs at least one vCPU");
    if (linux_boot && nr_vcpus > X86_LINUX_MAX_VCPUS)
        return fail("vm.vcpus: a Linux guest may have up to %u vCPUs (8-bit APIC IDs), "
                    "not %u", X86_LINUX_MAX_VCPUS, nr_vcpus);
    if (linux_boot && ram_size > X86_LINUX_MAX_RAM)
        return fail("memory: a Linux guest may have up to %llu MiB of RAM for now "
                    "(RAM ends below the 32-bit MMIO hole)", X86_LINUX_MAX_RAM >> 20);
    /* Images need at least a byte between 1 MiB and the reservations. */
    if (top <= X86_IMAGE_MIN || top - X86_IMAGE_MIN <= stacks + ucall)
        return fail("vm.memory: %" G_GUINT64_FORMAT " MiB is too small: this machine needs "
                    "at least %" G_GUINT64_FORMAT " MiB of RAM for %u vCPU%s (%s 1 MiB "
                    "below the images); raise vm.memory", ram_size / MIB,
                    (guint64)((X86_IMAGE_MIN + stacks + ucall) / MIB + 1), nr_vcpus,
                    nr_vcpus == 1 ? "" : "s",
                    linux_boot ? "4 KiB of ucall structure each, and"
                               : "a 64 KiB stack and a 4 KiB ucall structure each, and");

    l->stacks_top = top;
    l->ucall_gpa = top - stacks - ucall;
    l->load_lo = X86_IMAGE_MIN;
    l->load_hi = l->ucall_gpa;
    if (linux_boot)
        add(l, "real-mode IVT", X86_IVT_ADDR, 0x400);
    add(l, "GDT", X86_GDT_ADDR, linux_boot ? 6 * 8 : 5 * 8);
    if (linux_boot)
        add(l, "boot information (boot_params or multiboot)", X86_BOOT_PARAMS_ADDR, 0x1000);
    add(l, "page tables", X86_PML4_ADDR,
        X86_PD_ADDR - X86_PML4_ADDR + x86_mapped_gib(ram_size) * 0x1000);
    if (linux_boot) {
        add(l, "command line", X86_CMDLINE_ADDR, X86_CMDLINE_MAX);
        add(l, "BIOS hole (ACPI tables, reset vector)", X86_EBDA_START,
            X86_HIGH_RAM - X86_EBDA_START);
    }
    add(l, "ucall structures", l->ucall_gpa, ucall);
    if (!linux_boot)
        add(l, "stacks", top - stacks, stacks);
    return true;
}
