// fuzz-sources: src/images/loader_elf.c src/core/guest_mem.c src/base/error.c src/images/linux_format.c src/arch/x86_64/bzimage.c src/arch/x86_64/multiboot.c src/arch/x86_64/layout.c src/arch/aarch64/image.c
// fuzz-includes: include src/arch/x86_64
// fuzz-pkgs: glib-2.0
// fuzz-seeds: fuzz/seeds/loaders
/*
 * libFuzzer target for the four loaders: ELF64 (elf_load), the x86
 * bzImage (x86_bzimage_check + x86_bzimage_load), the multiboot v1 kernel
 * (x86_multiboot_check + x86_multiboot_load) and the arm64 Image
 * (arm_image_check + arm_image_load). Each loads into a fake guest RAM
 * buffer of exactly the machine's size, so ASan catches any write outside
 * it; the check-only pass and the load must agree (the config check and
 * VM creation give the same answer), or the target aborts.
 *
 * Input: byte 0 picks the loader (low two bits: ELF, bzImage, Image,
 * multiboot) and whether the format's
 * magic is forced in (bit 2, so mutations reach past the first check) and
 * whether the tail is an initrd (bit 3); byte 1 the RAM size in MiB, byte
 * 2 the vCPU count, byte 3 the initrd's length (x 256 bytes, from the end).
 * The rest is the file.
 *
 * Seeds (one per loader, each a valid image): fuzz/seeds/loaders/.
 *
 *   clang -fsanitize=fuzzer,address,undefined -g -O1 -std=gnu11 -D_GNU_SOURCE \
 *       -Iinclude -Isrc/arch/x86_64 $(pkg-config --cflags glib-2.0) \
 *       fuzz/loaders_fuzz.c <fuzz-sources> $(pkg-config --libs glib-2.0)
 */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-guest/calls.h"
#include "vmm-guest/platform.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/loader.h"
#include "vmm/guest_mem.h"
#include "multiboot.h"
#include "x86-linux.h"
#include "../src/arch/aarch64/image.h"

#define MIB (1ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Guest memory whose one region, its RAM, is @ram: what the loaders get. */
static void one_region(struct guest_mem *mem, uint8_t *ram, uint64_t gpa, uint64_t ram_size)
{
    *mem = (struct guest_mem){
        .regions = { { .gpa = gpa, .size = ram_size, .hva = ram } }, .nr = 1,
    };
    mem->ram = &mem->regions[0];
}

static void agree(bool checked, bool loaded)
{
    if (checked != loaded)
        abort(); /* the check and the load disagree */
}

static void force_elf(uint8_t *d, size_t n)
{
    Elf64_Ehdr eh;

    if (n < sizeof(eh))
        return;
    memcpy(&eh, d, sizeof(eh));
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_machine = EM_X86_64;
    eh.e_type = ET_EXEC;
    eh.e_phentsize = sizeof(Elf64_Phdr);
    memcpy(d, &eh, sizeof(eh));
}

static void fuzz_elf(const uint8_t *d, size_t n, uint64_t ram_size, unsigned vcpus)
{
    struct load_target t = { .e_machine = EM_X86_64 };
    struct vm_layout l;
    uint64_t e1 = 0, e2 = 0;
    uint8_t *ram;
    bool checked;

    if (!arch_layout(ram_size, vcpus, false, &l, NULL))
        return;
    t.lo = l.load_lo;
    t.hi = l.load_hi;
    checked = elf_load("f.elf", d, n, &t, &e1, NULL);
    ram = malloc(ram_size);
    t.ram = ram;
    t.ram_gpa = l.ram_base;
    t.ram_size = ram_size;
    agree(checked, elf_load("f.elf", d, n, &t, &e2, NULL));
    if (checked && e1 != e2)
        abort();
    free(ram);
}

static void put(uint8_t *d, size_t n, size_t off, const void *v, size_t len)
{
    if (off + len <= n)
        memcpy(d + off, v, len);
}

static void force_bzimage(uint8_t *d, size_t n)
{
    uint16_t flag = 0xaa55, version = 0x20f, xlf = 1;

    put(d, n, 0x1fe, &flag, 2);
    put(d, n, 0x202, "HdrS", 4);
    put(d, n, 0x206, &version, 2);
    if (n > 0x211)
        d[0x211] |= 1;
    put(d, n, 0x236, &xlf, 2);
}

static void fuzz_bzimage(struct linux_image *li, uint64_t ram_size, unsigned vcpus)
{
    const char *cmdline = "console=ttyS0 panic=-1";
    struct x86_linux_plan p;
    struct vm_layout l;
    struct guest_mem mem;
    uint8_t *ram;
    bool checked;

    if (!arch_layout(ram_size, vcpus, true, &l, NULL))
        return;
    checked = x86_bzimage_check(li, cmdline, &l, &p, NULL);
    if (!checked)
        return;
    ram = malloc(ram_size);
    one_region(&mem, ram, l.ram_base, ram_size);
    agree(true, x86_bzimage_load(&mem, li, cmdline, &p, ram_size, X86_ACPI_BASE, NULL));
    free(ram);
}

/* A multiboot header (its flags the file's) after an ELF32 header's room. */
static void force_multiboot(uint8_t *d, size_t n)
{
    uint32_t magic = 0x1badb002, flags, sum;

    if (n < 0x40 + 12)
        return;
    memcpy(d, ELFMAG, SELFMAG);
    d[EI_CLASS] = ELFCLASS32;
    d[EI_DATA] = ELFDATA2LSB;
    memcpy(&flags, d + 0x44, 4);
    sum = -(magic + flags);
    memcpy(d + 0x40, &magic, 4);
    memcpy(d + 0x48, &sum, 4);
}

static void fuzz_multiboot(struct linux_image *li, uint64_t ram_size, unsigned vcpus)
{
    const char *cmdline = "kernel -v";
    struct x86_multiboot_plan p;
    struct vm_layout l;
    struct guest_mem mem;
    uint8_t *ram;

    if (!arch_layout(ram_size, vcpus, true, &l, NULL) ||
        !x86_multiboot_check(li, cmdline, &l, &p, NULL))
        return;
    /* What the check passed lies in RAM, clear of every one of vmm's
     * structures (low RAM too, between them). */
    for (unsigned i = 0; i < p.nr_segments; i++) {
        const struct x86_multiboot_segment *s = &p.segments[i];

        if (s->gpa + s->memsz > l.load_hi)
            abort();
        for (unsigned r = 0; r < l.nr_regions; r++)
            if (s->memsz && s->gpa < l.regions[r].gpa + l.regions[r].size &&
                l.regions[r].gpa < s->gpa + s->memsz)
                abort();
    }
    ram = malloc(ram_size);
    one_region(&mem, ram, l.ram_base, ram_size);
    agree(true, x86_multiboot_load(&mem, li, cmdline, &p, &l, NULL));
    free(ram);
}

static void fuzz_arm64(struct linux_image *li, uint64_t ram_size, unsigned vcpus)
{
    /* The aarch64 layout's image window (src/arch/aarch64/layout.c): from
     * the start of RAM to the ucall structures below the 2 MiB device tree. */
    struct vm_layout l = {
        .ram_base = VMM_ARM_RAM_BASE, .ram_size = ram_size, .nr_vcpus = vcpus,
        .linux_boot = true, .load_lo = VMM_ARM_RAM_BASE,
    };
    struct arm_linux_plan p;
    struct guest_mem mem;
    uint8_t *ram;

    if (ram_size < 2 * MIB + (uint64_t)vcpus * VMM_UCALL_STRIDE + 0x1000)
        return;
    l.load_hi = VMM_ARM_RAM_BASE + ram_size - 2 * MIB - (uint64_t)vcpus * VMM_UCALL_STRIDE;
    if (!arm_image_check(li, "panic=-1", &l, &p, NULL))
        return;
    ram = malloc(ram_size);
    one_region(&mem, ram, VMM_ARM_RAM_BASE, ram_size);
    agree(true, arm_image_load(&mem, li, &p, NULL));
    free(ram);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linux_image li = { .kernel_path = "kernel", .initrd_path = "initrd" };
    uint64_t ram_size;
    unsigned mode, vcpus;
    size_t initrd_len = 0;
    uint8_t *file;

    if (size < 4)
        return 0;
    mode = data[0];
    ram_size = (2 + data[1] % 40) * MIB;
    vcpus = 1 + data[2];
    file = malloc(size - 4 ? size - 4 : 1);
    memcpy(file, data + 4, size - 4);
    size -= 4;
    if (mode & 8) {
        initrd_len = MIN((size_t)data[3] * 256, size / 2);
        li.initrd = file + size - initrd_len;
        li.initrd_size = initrd_len;
    } else {
        li.initrd_path = NULL;
    }
    li.kernel = file;
    li.kernel_size = size - initrd_len;

    switch (mode & 3) {
    case 0:
        if (mode & 4)
            force_elf(file, li.kernel_size);
        fuzz_elf(file, li.kernel_size, ram_size, vcpus);
        break;
    case 1:
        if (mode & 4)
            force_bzimage(file, li.kernel_size);
        fuzz_bzimage(&li, ram_size, vcpus);
        break;
    case 3:
        if (mode & 4)
            force_multiboot(file, li.kernel_size);
        fuzz_multiboot(&li, ram_size, vcpus);
        break;
    default:
        if ((mode & 4) && li.kernel_size >= 64)
            memcpy(file + 56, "ARM\x64", 4);
        fuzz_arm64(&li, ram_size, vcpus);
        break;
    }
    free(file);
    return 0;
}
