/*
 * Multiboot v1 kernels (the Multiboot Specification 0.6.96): a header in
 * the first 8 KiB of the file, segments loaded from its ELF32 program
 * headers or from the header's own address fields, and a boot information
 * structure the kernel finds through EBX. kvm-unit-tests' x86 images are
 * such kernels. Pure (no KVM): the unit tests and the loader fuzzer run it.
 */
#ifndef VMM_X86_MULTIBOOT_H
#define VMM_X86_MULTIBOOT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct guest_mem;
struct linux_image;
struct vm_layout;

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2badb002U  /* EAX at the entry */
#define X86_MULTIBOOT_INFO_ADDR    0x7000ULL    /* the zero page's slot: the boots exclusive */
#define X86_MULTIBOOT_MAX_SEGMENTS 16

struct x86_multiboot_segment {
    uint64_t gpa, filesz, memsz;
    size_t offset;             /* in the file */
};

/* What x86_multiboot_check found and where each part goes. */
struct x86_multiboot_plan {
    size_t header_offset;
    uint32_t flags;
    struct x86_multiboot_segment segments[X86_MULTIBOOT_MAX_SEGMENTS];
    unsigned nr_segments;
    uint64_t image_end;        /* the end of the highest segment */
    uint64_t module_gpa;       /* the initrd, page-aligned above the image */
    uint32_t entry;
};

/* Whether @data holds a multiboot v1 header (magic and checksum) in its
 * first 8 KiB; its offset in *offset. */
bool x86_multiboot_find(const uint8_t *data, size_t size, size_t *offset);
/* Checks @li's multiboot kernel, its initrd (the one module) and @cmdline
 * against layout @l: every address the file gives must lie in the
 * images' window without wrapping or overlapping. One-line errors naming
 * the file. */
bool x86_multiboot_check(const struct linux_image *li, const char *cmdline,
                         const struct vm_layout *l, struct x86_multiboot_plan *p,
                         GError **error);
/* Writes the segments (bss zeroed), the module, @cmdline, a memory map of
 * @l's RAM and the boot information at X86_MULTIBOOT_INFO_ADDR. */
bool x86_multiboot_load(struct guest_mem *mem, const struct linux_image *li,
                        const char *cmdline, const struct x86_multiboot_plan *p,
                        const struct vm_layout *l, GError **error);

#endif
