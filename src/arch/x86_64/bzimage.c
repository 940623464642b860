/*
 * The bzImage format (Documentation/arch/x86/boot.rst): reading the setup
 * header, placing the kernel and initrd in a machine's layout, and writing
 * them, the command line and the zero page into guest RAM. Every field is
 * the file's word, so every sum is checked before it is used; every write
 * goes through guest_copy_in(). Pure (no KVM): the loader fuzzer runs it.
 */
#include <string.h>

#include "vmm/error.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/guest_mem.h"
#include "layout.h"
#include "x86-linux.h"

/* Setup header fields: offsets in the bzImage and in boot_params alike. */
#define HDR_SETUP_SECTS     0x1f1
#define HDR_BOOT_FLAG       0x1fe
#define HDR_JUMP            0x200  /* its second byte is the header's length - 2 */
#define HDR_MAGIC           0x202
#define HDR_VERSION         0x206
#define HDR_TYPE_OF_LOADER  0x210
#define HDR_LOADFLAGS       0x211
#define HDR_RAMDISK_IMAGE   0x218
#define HDR_RAMDISK_SIZE    0x21c
#define HDR_CMD_LINE_PTR    0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS      0x236
#define HDR_CMDLINE_SIZE    0x238
#define HDR_PREF_ADDRESS    0x258
#define HDR_INIT_SIZE       0x260
#define HDR_MIN_END         0x264  /* a 2.12 header holds at least init_size */
#define HDR_MAX_END         0x290  /* boot_params' next field */
/* boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR   0x070
#define BP_E820_ENTRIES     0x1e8
#define BP_E820_TABLE       0x2d0
#define BP_SIZE             0x1000

#define LOADED_HIGH         0x01
#define XLF_KERNEL_64       0x01
#define MIN_VERSION         0x020c  /* 2.12: xloadflags, 64-bit entry */
#define ENTRY_64_OFFSET     0x200
#define E820_RAM            1
#define E820_RESERVED       2

static uint16_t get16(const uint8_t *p, size_t off) { uint16_t v; memcpy(&v, p + off, 2); return v; }
static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, size_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)
#define MIB(x) (((uint64_t)(x) + (1 << 20) - 1) >> 20)

/* Reads the header into @p (setup size, kernel address and extent). */
static bool parse_header(const struct linux_image *li, struct x86_linux_plan *p,
                         GError **error)
{
    const uint8_t *d = li->kernel;
    size_t size = li->kernel_size;
    const char *name = li->kernel_path;
    unsigned sects;

    if (size < 0x270 || get16(d, HDR_BOOT_FLAG) != 0xaa55 || memcmp(d + HDR_MAGIC, "HdrS", 4)) {
        const char *what = linux_guess_format(d, size);

        return fail("kernel: %s: not a bzImage%s%s%s", name, what ? " (" : "",
                    what ? what : "", what ? ")" : "");
    }
    if (get16(d, HDR_VERSION) < MIN_VERSION)
        return fail("kernel: %s: boot protocol %u.%02u is too old (2.12 or later needed)",
                    name, get16(d, HDR_VERSION) >> 8, get16(d, HDR_VERSION) & 0xff);
    if (!(d[HDR_LOADFLAGS] & LOADED_HIGH) || !(get16(d, HDR_XLOADFLAGS) & XLF_KERNEL_64))
        return fail("kernel: %s: not a 64-bit kernel with a 64-bit entry point", name);
    sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
    p->setup_size = (sects + 1) * 512;          /* at most 128 KiB: no overflow */
    p->header_end = 0x202 + d[HDR_JUMP + 1];    /* at most 0x301 */
    /* The 64-bit entry must lie in the file's protected-mode part. */
    if (p->setup_size >= size || size - p->setup_size <= ENTRY_64_OFFSET ||
        p->header_end > p->setup_size)
        return fail("kernel: %s: truncated bzImage", name);
    if (p->header_end < HDR_MIN_END)
        return fail("kernel: %s: corrupt bzImage (its setup header ends at %#zx, before "
                    "init_size)", name, p->header_end);
    p->kernel_gpa = get64(d, HDR_PREF_ADDRESS);
    p->kernel_mem = MAX((uint64_t)get32(d, HDR_INIT_SIZE), size - p->setup_size);
    if (p->kernel_gpa < X86_HIGH_RAM)
        return fail("kernel: %s: preferred load address %#" G_GINT64_MODIFIER "x is below 1 MiB",
                    name, p->kernel_gpa);
    return true;
}

/* The initrd: as high as the header and the layout allow, page-aligned,
 * above the kernel. */
static bool place_initrd(const struct linux_image *li, const struct vm_layout *l,
                         struct x86_linux_plan *p, GError **error)
{
    uint64_t max = get32(li->kernel, HDR_INITRD_ADDR_MAX);
    uint64_t top = MIN(l->load_hi, max + 1);
    uint64_t kernel_end = p->kernel_gpa + p->kernel_mem; /* checked: no wrap */

    if (li->initrd_size > top || ((top - li->initrd_size) & ~0xfffULL) < kernel_end)
        return fail("initrd: %s: %" G_GUINT64_FORMAT " MiB do not fit in %" G_GUINT64_FORMAT
                    " MiB of RAM beside the kernel (%" G_GUINT64_FORMAT " MiB)%s; raise the "
                    "memory", li->initrd_path, MIB(li->initrd_size), l->ram_size >> 20,
                    MIB(kernel_end), max + 1 < l->load_hi ? " below its initrd_addr_max" : "");
    p->initrd_gpa = (top - li->initrd_size) & ~0xfffULL;
    return true;
}

bool x86_bzimage_check(const struct linux_image *li, const char *cmdline,
                       const struct vm_layout *l, struct x86_linux_plan *p, GError **error)
{
    size_t cmdline_len = strlen(cmdline);
    uint32_t cmdline_size;

    *p = (struct x86_linux_plan){ 0 };
    if (!parse_header(li, p, error))
        return false;
    /* Inside the images' window, written so that nothing can wrap. */
    if (p->kernel_gpa < l->load_lo || p->kernel_gpa > l->load_hi ||
        p->kernel_mem > l->load_hi - p->kernel_gpa)
        return fail("kernel: %s: too large for %" G_GUINT64_FORMAT " MiB of RAM (it needs "
                    "%" G_GUINT64_FORMAT " MiB from %#" G_GINT64_MODIFIER "x)", li->kernel_path,
                    l->ram_size >> 20, MIB(p->kernel_mem), p->kernel_gpa);
    p->entry = p->kernel_gpa + ENTRY_64_OFFSET;
    if (li->initrd && !place_initrd(li, l, p, error))
        return false;
    cmdline_size = get32(li->kernel, HDR_CMDLINE_SIZE);
    if (cmdline_len >= MIN((uint64_t)cmdline_size + 1, X86_CMDLINE_MAX))
        return fail("cmdline: %zu bytes, but this kernel takes at most %" G_GUINT64_FORMAT,
                    cmdline_len, (guint64)MIN((uint64_t)cmdline_size, X86_CMDLINE_MAX - 1));
    return true;
}

static void e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    uint8_t n = bp[BP_E820_ENTRIES];
    uint8_t *e = bp + BP_E820_TABLE + n * 20;

    put64(e, 0, addr);
    put64(e, 8, size);
    put32(e, 16, type);
    bp[BP_E820_ENTRIES] = n + 1;
}

bool x86_bzimage_load(struct guest_mem *mem, const struct linux_image *li, const char *cmdline,
                      const struct x86_linux_plan *p, uint64_t ram_size, uint64_t rsdp,
                      GError **error)
{
    g_autofree uint8_t *bp = g_malloc0(BP_SIZE);
    size_t cmdline_len = strlen(cmdline);

    if (cmdline_len >= X86_CMDLINE_MAX) /* x86_bzimage_check refused it already */
        return fail("cmdline: %zu bytes is too long", cmdline_len);
    memcpy(bp + HDR_SETUP_SECTS, li->kernel + HDR_SETUP_SECTS,
           MIN(p->header_end, HDR_MAX_END) - HDR_SETUP_SECTS);
    bp[HDR_TYPE_OF_LOADER] = 0xff; /* "undefined" boot loader */
    put32(bp, HDR_CMD_LINE_PTR, X86_CMDLINE_ADDR);
    put32(bp, HDR_RAMDISK_IMAGE, li->initrd ? p->initrd_gpa : 0);
    put32(bp, HDR_RAMDISK_SIZE, li->initrd ? li->initrd_size : 0);
    put64(bp, BP_ACPI_RSDP_ADDR, rsdp);
    e820_add(bp, 0, X86_EBDA_START, E820_RAM);
    e820_add(bp, X86_EBDA_START, X86_HIGH_RAM - X86_EBDA_START, E820_RESERVED);
    e820_add(bp, X86_HIGH_RAM, ram_size - X86_HIGH_RAM, E820_RAM);

    return guest_copy_in(mem, p->kernel_gpa, li->kernel + p->setup_size,
                         li->kernel_size - p->setup_size, "kernel", error) &&
           (!li->initrd ||
            guest_copy_in(mem, p->initrd_gpa, li->initrd, li->initrd_size, "initrd", error)) &&
           guest_fill(mem, X86_CMDLINE_ADDR, 0, X86_CMDLINE_MAX, "cmdline", error) &&
           guest_copy_in(mem, X86_CMDLINE_ADDR, cmdline, cmdline_len, "cmdline", error) &&
           guest_copy_in(mem, X86_BOOT_PARAMS_ADDR, bp, BP_SIZE, "boot_params", error);
}
