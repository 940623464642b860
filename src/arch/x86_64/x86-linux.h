/* Where a Linux boot puts things in an x86_64 guest (src/arch/x86_64/linux.c
 * and acpi.c). Below 1 MiB, beside the firmware layout of layout.h. */
#ifndef VMM_X86_LINUX_H
#define VMM_X86_LINUX_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct guest_mem;
struct vm;

#define X86_LINUX_GDT_ADDR    0x500ULL    /* replaces the firmware GDT */
#define X86_BOOT_PARAMS_ADDR  0x7000ULL   /* the "zero page" */
#define X86_CMDLINE_ADDR      0x20000ULL
#define X86_CMDLINE_MAX       0x10000ULL
#define X86_EBDA_START        0x9fc00ULL  /* reserved from here to 1 MiB */
#define X86_ACPI_BASE         0xe0000ULL  /* ACPI tables, in that reserved hole */
#define X86_ACPI_SIZE         0x20000ULL
#define X86_RESET_VECTOR      0xffff0ULL  /* f000:fff0, where a real-mode reset jumps */
#define X86_HIGH_RAM          0x100000ULL
/* Guest RAM must end below the 32-bit MMIO hole (IOAPIC, LAPIC, KVM's TSS). */
#define X86_LINUX_MAX_RAM     0xc0000000ULL
#define X86_LAPIC_BASE        0xfee00000U
#define X86_IOAPIC_BASE       0xfec00000U
#define X86_LINUX_MAX_VCPUS   255         /* 8-bit APIC IDs in the MADT */

/* Where a bzImage's parts go (bzimage.c), from x86_bzimage_check. */
struct x86_linux_plan {
    size_t setup_size;      /* the real-mode part, skipped */
    size_t header_end;      /* the setup header is [0x1f1, header_end) */
    uint64_t kernel_gpa;    /* pref_address */
    uint64_t kernel_mem;    /* bytes the kernel needs from there (init_size) */
    uint64_t initrd_gpa;
    uint64_t entry;         /* the 64-bit entry point */
};
struct linux_image;
struct vm_layout;

/* Checks @li's bzImage (and initrd, @cmdline) against layout @l: one-line
 * errors naming the file. Pure; the config check and the load both call it. */
bool x86_bzimage_check(const struct linux_image *li, const char *cmdline,
                       const struct vm_layout *l, struct x86_linux_plan *p, GError **error);
/* Writes the kernel, initrd, command line and zero page (with @rsdp and an
 * e820 map of @ram_size bytes) into guest memory as @p says. */
bool x86_bzimage_load(struct guest_mem *mem, const struct linux_image *li, const char *cmdline,
                      const struct x86_linux_plan *p, uint64_t ram_size, uint64_t rsdp,
                      GError **error);

/* Writes the RSDP, XSDT, FADT, MADT and DSDT at X86_ACPI_BASE. */
bool x86_acpi_build(struct vm *vm, uint64_t *rsdp_gpa, GError **error);

#endif
