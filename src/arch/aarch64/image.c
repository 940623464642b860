/*
 * The arm64 Image format (Documentation/arch/arm64/booting.rst): reading
 * its header, placing the kernel and initrd in the machine's layout, and
 * copying them into guest RAM. A file without the Image header is a raw
 * binary, loaded at the start of RAM. Every header field is the file's
 * word: sums are checked before use, writes go through guest_copy_in().
 * No arm64 header: the loader fuzzer and unit tests build it on any host.
 */
#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/guest_mem.h"
#include "image.h"

#define IMAGE_TEXT_OFFSET   8
#define IMAGE_SIZE          16
#define IMAGE_MAGIC         56
#define IMAGE_HEADER_SIZE   64
#define OLD_TEXT_OFFSET     0x80000 /* kernels before 3.17 leave image_size 0 */
#define MAX_TEXT_OFFSET     (1ULL << 30)
#define COMMAND_LINE_SIZE   4096    /* arm64's */

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)
#define MIB(x) ((guint64)(((uint64_t)(x) + (1 << 20) - 1) >> 20))

static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static bool parse_kernel(const struct linux_image *li, const struct vm_layout *l,
                         struct arm_linux_plan *p, GError **error)
{
    const uint8_t *d = li->kernel;
    const char *what;

    if (li->kernel_size >= IMAGE_HEADER_SIZE && !memcmp(d + IMAGE_MAGIC, "ARM\x64", 4)) {
        uint64_t text_offset = get64(d, IMAGE_TEXT_OFFSET), size = get64(d, IMAGE_SIZE);

        if (!size) {
            text_offset = OLD_TEXT_OFFSET;
            size = li->kernel_size;
        }
        if (size < li->kernel_size || text_offset > MAX_TEXT_OFFSET)
            return fail("kernel: %s: corrupt arm64 Image header", li->kernel_path);
        p->kernel_gpa = l->ram_base + text_offset; /* RAM starts 2 MiB aligned */
        p->kernel_mem = size;
        return true;
    }
    /* Formats that are certainly no raw binary for this machine. */
    what = linux_guess_format(d, li->kernel_size);
    if (what)
        return fail("kernel: %s: not an arm64 Image (%s)", li->kernel_path, what);
    G_STATIC_ASSERT((VMM_ARM_RAM_BASE & 0xffff) == 0);
    p->kernel_gpa = l->ram_base;
    p->kernel_mem = li->kernel_size;
    return true;
}

/* The initrd goes right below the ucall structures, page-aligned. */
static bool place_initrd(const struct linux_image *li, const struct vm_layout *l,
                         struct arm_linux_plan *p, GError **error)
{
    uint64_t top = l->load_hi, kernel_end = p->kernel_gpa + p->kernel_mem; /* no wrap */

    if (li->initrd_size > top - kernel_end ||
        ((top - li->initrd_size) & ~0xfffULL) < kernel_end)
        return fail("initrd: %s: %" G_GUINT64_FORMAT " MiB do not fit in %" G_GUINT64_FORMAT
                    " MiB of RAM beside the kernel (%" G_GUINT64_FORMAT " MiB); raise the "
                    "memory", li->initrd_path, MIB(li->initrd_size), (guint64)l->ram_size >> 20,
                    MIB(p->kernel_mem));
    p->initrd_gpa = (top - li->initrd_size) & ~0xfffULL;
    return true;
}

bool arm_image_check(const struct linux_image *li, const char *cmdline,
                     const struct vm_layout *l, struct arm_linux_plan *p, GError **error)
{
    *p = (struct arm_linux_plan){ 0 };
    if (!parse_kernel(li, l, p, error))
        return false;
    /* Inside the images' window, written so that nothing can wrap. */
    if (p->kernel_gpa < l->load_lo || p->kernel_gpa > l->load_hi ||
        p->kernel_mem > l->load_hi - p->kernel_gpa)
        return fail("kernel: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (it needs "
                    "%" G_GUINT64_FORMAT " MiB from %#" G_GINT64_MODIFIER "x, below the "
                    "ucall structures and the 2 MiB device tree)", li->kernel_path,
                    (guint64)l->ram_size >> 20, MIB(p->kernel_mem), p->kernel_gpa);
    if (li->initrd && !place_initrd(li, l, p, error))
        return false;
    if (strlen(cmdline) >= COMMAND_LINE_SIZE)
        return fail("cmdline: %zu bytes, but arm64 kernels take at most %d", strlen(cmdline),
                    COMMAND_LINE_SIZE - 1);
    return true;
}

bool arm_image_load(struct guest_mem *mem, const struct linux_image *li,
                    const struct arm_linux_plan *p, GError **error)
{
    return guest_copy_in(mem, p->kernel_gpa, li->kernel, li->kernel_size, "kernel", error) &&
           (!li->initrd ||
            guest_copy_in(mem, p->initrd_gpa, li->initrd, li->initrd_size, "initrd", error));
}
