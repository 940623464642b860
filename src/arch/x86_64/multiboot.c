/*
 * Multiboot v1 kernels (multiboot.h): finding and checking the header,
 * placing the segments and the one module (the initrd), and writing them
 * with the boot information. Every address is the file's word: each is
 * checked against RAM below the layout's top reservations and against
 * every structure vmm places (low RAM is open between them), in 64-bit
 * sums that cannot wrap, before anything is written; every write goes through
 * guest_copy_in().
 */
#include <elf.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "multiboot.h"
#include "x86-linux.h"

#define HEADER_MAGIC     0x1badb002U
#define HEADER_SEARCH    8192
#define HEADER_MIN       12       /* magic, flags, checksum */
#define HEADER_ADDR_END  32       /* ... header/load/load_end/bss_end/entry addresses */
#define FLAG_PAGE_ALIGN  0x1      /* modules on 4 KiB boundaries: always so here */
#define FLAG_MEMORY_INFO 0x2      /* mem_* fields: always given */
#define FLAG_VIDEO_MODE  0x4
#define FLAG_ADDRESSES   0x10000
#define FLAGS_REQUIRED   0xffff   /* the low half: a loader must honour or refuse */

/* The boot information's flags and layout (the spec's section 3.3). */
#define INFO_MEMORY      0x1
#define INFO_CMDLINE     0x4
#define INFO_MODS        0x8
#define INFO_MMAP        0x40
#define INFO_LOADER_NAME 0x200
#define INFO_SIZE        0x58
#define INFO_MODULE      0x100    /* offsets in the info page */
#define INFO_NAME        0x180
#define INFO_MMAP_AT     0x200
#define MMAP_ENTRY       24       /* a u32 size (20), base, length, type */
#define MMAP_RAM         1
#define MMAP_RESERVED    2

static uint32_t get32(const uint8_t *p, size_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

#define fail(...) (g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, __VA_ARGS__), false)
#define MIB(x) (((uint64_t)(x) + (1 << 20) - 1) >> 20)

bool x86_multiboot_find(const uint8_t *data, size_t size, size_t *offset)
{
    /* 32-bit aligned, wholly inside the first 8 KiB */
    for (size_t off = 0; off + HEADER_MIN <= MIN(size, HEADER_SEARCH); off += 4) {
        uint32_t magic = get32(data, off), flags = get32(data, off + 4);

        if (magic == HEADER_MAGIC && (uint32_t)(magic + flags + get32(data, off + 8)) == 0) {
            *offset = off;
            return true;
        }
    }
    return false;
}

static bool add_segment(const char *name, struct x86_multiboot_plan *p, uint64_t gpa,
                        size_t offset, uint64_t filesz, uint64_t memsz, GError **error)
{
    if (p->nr_segments == X86_MULTIBOOT_MAX_SEGMENTS)
        return fail("kernel: %s: more than %d loadable segments", name,
                    X86_MULTIBOOT_MAX_SEGMENTS);
    p->segments[p->nr_segments++] = (struct x86_multiboot_segment){
        .gpa = gpa, .offset = offset, .filesz = filesz, .memsz = memsz,
    };
    return true;
}

/* Flag 16: the header says where the file goes (the "a.out kludge"). */
static bool plan_addresses(const struct linux_image *li, struct x86_multiboot_plan *p,
                           GError **error)
{
    const uint8_t *h = li->kernel + p->header_offset;
    const char *name = li->kernel_path;
    uint32_t header_addr, load_addr, load_end, bss_end;
    uint64_t load_len, mem_len, before;

    if (li->kernel_size - p->header_offset < HEADER_ADDR_END)
        return fail("kernel: %s: truncated multiboot header", name);
    header_addr = get32(h, 12);
    load_addr = get32(h, 16);
    load_end = get32(h, 20);
    bss_end = get32(h, 24);
    p->entry = get32(h, 28);
    before = (uint64_t)header_addr - load_addr; /* the file's bytes before the header */
    if (header_addr < load_addr || before > p->header_offset)
        return fail("kernel: %s: multiboot load address %#x is not at or before its header's "
                    "%#x in the file", name, load_addr, header_addr);
    load_len = li->kernel_size - (p->header_offset - before);
    if (load_end) {
        if (load_end < load_addr || load_end - load_addr > load_len)
            return fail("kernel: %s: multiboot load end %#x is not within the file loaded "
                        "from %#x", name, load_end, load_addr);
        load_len = load_end - load_addr;
    }
    mem_len = load_len;
    if (bss_end) {
        if (bss_end < load_addr + load_len)
            return fail("kernel: %s: multiboot bss end %#x is below its load end", name,
                        bss_end);
        mem_len = bss_end - load_addr;
    }
    return add_segment(name, p, load_addr, p->header_offset - before, load_len, mem_len,
                       error);
}

/* Otherwise the file is ELF32 and its program headers say it. */
static bool plan_elf(const struct linux_image *li, struct x86_multiboot_plan *p,
                     GError **error)
{
    const char *name = li->kernel_path;
    Elf32_Ehdr eh;

    if (li->kernel_size < sizeof(eh))
        return fail("kernel: %s: a multiboot kernel that is not ELF must give its addresses "
                    "(header flag 16)", name);
    memcpy(&eh, li->kernel, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return fail("kernel: %s: a multiboot kernel that is not ELF must give its addresses "
                    "(header flag 16)", name);
    if (eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
        eh.e_machine != EM_386 || eh.e_type != ET_EXEC)
        return fail("kernel: %s: a multiboot ELF kernel must be a little-endian ELF32 i386 "
                    "executable", name);
    if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phnum == 0 ||
        eh.e_phoff > li->kernel_size ||
        (li->kernel_size - eh.e_phoff) / sizeof(Elf32_Phdr) < eh.e_phnum)
        return fail("kernel: %s: corrupt program headers", name);
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf32_Phdr ph;

        memcpy(&ph, li->kernel + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (ph.p_filesz > ph.p_memsz ||
            (ph.p_filesz && (ph.p_offset > li->kernel_size ||
                             ph.p_filesz > li->kernel_size - ph.p_offset)))
            return fail("kernel: %s: segment %u lies outside the file", name, i);
        if (!add_segment(name, p, ph.p_paddr, ph.p_offset, ph.p_filesz, ph.p_memsz, error))
            return false;
    }
    if (p->nr_segments == 0)
        return fail("kernel: %s: no loadable segments", name);
    p->entry = eh.e_entry;
    return true;
}

/* The first of vmm's own structures (@l's regions: below 1 MiB the GDT,
 * the boot information, the page tables, the command line and the BIOS
 * hole; at the top the ucall structures) that [gpa, gpa + size) overlaps,
 * or NULL. Sizes are the file's 32-bit words in 64-bit sums: no wrap. */
static const struct layout_region *overlaps_vmm(const struct vm_layout *l, uint64_t gpa,
                                                uint64_t size)
{
    for (unsigned i = 0; i < l->nr_regions; i++) {
        const struct layout_region *r = &l->regions[i];

        if (size && gpa < r->gpa + r->size && r->gpa < gpa + size)
            return r;
    }
    return NULL;
}

/* A segment may go anywhere in RAM below vmm's reservations at the top
 * that vmm itself does not use: above 1 MiB, or in low RAM between vmm's
 * structures there (kvm-unit-tests' realmode.flat loads at 0x8000, where
 * QEMU's loader puts it). */
static bool check_segments(const struct linux_image *li, const struct vm_layout *l,
                           struct x86_multiboot_plan *p, GError **error)
{
    const char *name = li->kernel_path;
    bool entry_inside = false;

    for (unsigned i = 0; i < p->nr_segments; i++) {
        const struct x86_multiboot_segment *s = &p->segments[i];
        const struct layout_region *r;

        if (s->gpa < l->ram_base || s->gpa > l->load_hi || s->memsz > l->load_hi - s->gpa)
            return fail("kernel: %s: segment [%#" G_GINT64_MODIFIER "x, +%#" G_GINT64_MODIFIER
                        "x) lies outside the RAM a kernel may use in %" G_GUINT64_FORMAT
                        " MiB ([%#" G_GINT64_MODIFIER "x, %#" G_GINT64_MODIFIER "x) but "
                        "vmm's structures below 1 MiB)", name, s->gpa, s->memsz,
                        l->ram_size >> 20, l->ram_base, l->load_hi);
        r = overlaps_vmm(l, s->gpa, s->memsz);
        if (r)
            return fail("kernel: %s: segment [%#" G_GINT64_MODIFIER "x, +%#" G_GINT64_MODIFIER
                        "x) overlaps vmm's %s at [%#" G_GINT64_MODIFIER "x, +%#"
                        G_GINT64_MODIFIER "x)", name, s->gpa, s->memsz, r->name, r->gpa,
                        r->size);
        for (unsigned j = 0; j < i; j++) {
            const struct x86_multiboot_segment *o = &p->segments[j];

            if (s->gpa < o->gpa + o->memsz && o->gpa < s->gpa + s->memsz)
                return fail("kernel: %s: segments at %#" G_GINT64_MODIFIER "x and %#"
                            G_GINT64_MODIFIER "x overlap", name, o->gpa, s->gpa);
        }
        entry_inside |= p->entry >= s->gpa && p->entry - s->gpa < s->memsz;
        p->image_end = MAX(p->image_end, s->gpa + s->memsz);
    }
    if (!entry_inside)
        return fail("kernel: %s: entry point %#x is outside its segments", name, p->entry);
    return true;
}

bool x86_multiboot_check(const struct linux_image *li, const char *cmdline,
                         const struct vm_layout *l, struct x86_multiboot_plan *p,
                         GError **error)
{
    const char *name = li->kernel_path;
    size_t cmdline_len = strlen(cmdline);

    *p = (struct x86_multiboot_plan){ 0 };
    if (!x86_multiboot_find(li->kernel, li->kernel_size, &p->header_offset))
        return fail("kernel: %s: no multiboot header in its first 8 KiB", name);
    p->flags = get32(li->kernel, p->header_offset + 4);
    if (p->flags & FLAG_VIDEO_MODE)
        return fail("kernel: %s: the multiboot kernel asks for a video mode (vmm has no "
                    "display)", name);
    if (p->flags & FLAGS_REQUIRED & ~(FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO))
        return fail("kernel: %s: the multiboot kernel requires features vmm does not know "
                    "(header flags %#x)", name, p->flags);
    if (!((p->flags & FLAG_ADDRESSES) ? plan_addresses(li, p, error) : plan_elf(li, p, error)) ||
        !check_segments(li, l, p, error))
        return false;
    if (li->initrd) {
        /* Above the image and never in low RAM, whose free gaps between
         * vmm's structures are small: from 1 MiB at least. */
        uint64_t at = MAX((p->image_end + 0xfff) & ~0xfffULL, X86_HIGH_RAM);

        if (at > l->load_hi || li->initrd_size > l->load_hi - at)
            return fail("initrd: %s: %" G_GUINT64_FORMAT " MiB do not fit in %"
                        G_GUINT64_FORMAT " MiB of RAM after the kernel (%" G_GUINT64_FORMAT
                        " MiB); raise the memory", li->initrd_path, MIB(li->initrd_size),
                        l->ram_size >> 20, MIB(p->image_end));
        p->module_gpa = at;
    }
    if (cmdline_len >= X86_CMDLINE_MAX)
        return fail("cmdline: %zu bytes, but a multiboot kernel here takes at most %"
                    G_GUINT64_FORMAT, cmdline_len, (guint64)X86_CMDLINE_MAX - 1);
    return true;
}

static size_t mmap_add(uint8_t *info, size_t at, uint64_t base, uint64_t len, uint32_t type)
{
    put32(info, at, MMAP_ENTRY - 4);
    put64(info, at + 4, base);
    put64(info, at + 12, len);
    put32(info, at + 20, type);
    return at + MMAP_ENTRY;
}

bool x86_multiboot_load(struct guest_mem *mem, const struct linux_image *li,
                        const char *cmdline, const struct x86_multiboot_plan *p,
                        const struct vm_layout *l, GError **error)
{
    uint8_t info[0x1000] = { 0 };
    size_t mmap_end = INFO_MMAP_AT;
    uint32_t flags = INFO_MEMORY | INFO_CMDLINE | INFO_MMAP | INFO_LOADER_NAME;

    if (strlen(cmdline) >= X86_CMDLINE_MAX) /* x86_multiboot_check refused it already */
        return fail("cmdline: %zu bytes is too long", strlen(cmdline));
    for (unsigned i = 0; i < p->nr_segments; i++) {
        const struct x86_multiboot_segment *s = &p->segments[i];

        if (!guest_copy_in(mem, s->gpa, li->kernel + s->offset, s->filesz, "kernel", error) ||
            !guest_fill(mem, s->gpa + s->filesz, 0, s->memsz - s->filesz, "kernel bss", error))
            return false;
    }
    /* Below 1 MiB: RAM up to the BIOS hole; above it, RAM up to what vmm
     * reserves at the top (the guest must not allocate over it). */
    put32(info, 4, X86_EBDA_START >> 10);
    put32(info, 8, (l->load_hi - X86_HIGH_RAM) >> 10);
    put32(info, 16, X86_CMDLINE_ADDR);
    if (li->initrd) {
        flags |= INFO_MODS;
        put32(info, 20, 1);
        put32(info, 24, X86_MULTIBOOT_INFO_ADDR + INFO_MODULE);
        put32(info, INFO_MODULE, p->module_gpa);
        put32(info, INFO_MODULE + 4, p->module_gpa + li->initrd_size);
        put32(info, INFO_MODULE + 8, X86_MULTIBOOT_INFO_ADDR + INFO_MODULE + 16); /* "" */
    }
    mmap_end = mmap_add(info, mmap_end, 0, X86_EBDA_START, MMAP_RAM);
    mmap_end = mmap_add(info, mmap_end, X86_EBDA_START, X86_HIGH_RAM - X86_EBDA_START,
                        MMAP_RESERVED);
    mmap_end = mmap_add(info, mmap_end, X86_HIGH_RAM, l->load_hi - X86_HIGH_RAM, MMAP_RAM);
    if (l->load_hi < l->ram_base + l->ram_size)
        mmap_end = mmap_add(info, mmap_end, l->load_hi,
                            l->ram_base + l->ram_size - l->load_hi, MMAP_RESERVED);
    put32(info, 44, mmap_end - INFO_MMAP_AT);
    put32(info, 48, X86_MULTIBOOT_INFO_ADDR + INFO_MMAP_AT);
    memcpy(info + INFO_NAME, "vmm", 4);
    put32(info, 64, X86_MULTIBOOT_INFO_ADDR + INFO_NAME);
    put32(info, 0, flags);
    G_STATIC_ASSERT(INFO_SIZE <= INFO_MODULE && INFO_NAME + 4 <= INFO_MMAP_AT);

    return (!li->initrd ||
            guest_copy_in(mem, p->module_gpa, li->initrd, li->initrd_size, "initrd", error)) &&
           guest_fill(mem, X86_CMDLINE_ADDR, 0, X86_CMDLINE_MAX, "cmdline", error) &&
           guest_copy_in(mem, X86_CMDLINE_ADDR, cmdline, strlen(cmdline), "cmdline", error) &&
           guest_copy_in(mem, X86_MULTIBOOT_INFO_ADDR, info, sizeof(info), "multiboot info",
                         error);
}
