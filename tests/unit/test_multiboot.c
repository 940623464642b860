/* x86_64 only (meson builds it there): multiboot v1 kernels over a fake
 * guest RAM. An ELF32 kernel (as kvm-unit-tests' x86 images are) and an
 * address-field kernel land where their headers say, the boot information
 * tells what a multiboot kernel reads, low RAM takes a segment between
 * vmm's own structures, and a hostile header (addresses outside RAM,
 * wrapping, overlapping each other or vmm's structures, sizes past the
 * file) is refused
 * with one line before anything is written. */
#include <check.h>
#include <elf.h>
#include <string.h>

#include "vmm/guest_mem.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "multiboot.h"
#include "x86-linux.h"

#include "unit.h"

#define RAM_SIZE   (64ULL << 20)
#define TEXT_GPA   0x400000U
#define DATA_GPA   0x408000U
#define HDR_OFF    0x100         /* the header in the file (in the text segment) */
#define TEXT_OFF   0x100
#define TEXT_SIZE  0x200
#define DATA_OFF   0x300
#define DATA_FILE  0x40
#define DATA_MEM   0x3000
#define FILE_SIZE  0x400

static uint8_t file[FILE_SIZE];
static uint8_t *ram;
static struct guest_mem mem;
static struct vm_layout layout;

static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static uint32_t get32(const uint8_t *p, uint64_t off) { uint32_t v; memcpy(&v, p + off, 4); return v; }
static uint64_t get64(const uint8_t *p, uint64_t off) { uint64_t v; memcpy(&v, p + off, 8); return v; }

static void header(size_t off, uint32_t flags)
{
    put32(file, off, 0x1badb002);
    put32(file, off + 4, flags);
    put32(file, off + 8, -(0x1badb002 + flags));
}

/* An ELF32 i386 executable: text (with the header) and data + bss. */
static void make_elf(void)
{
    Elf32_Ehdr eh = {
        .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32, ELFDATA2LSB, EV_CURRENT },
        .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
        .e_entry = TEXT_GPA + 12, .e_phoff = sizeof(Elf32_Ehdr), .e_ehsize = sizeof(eh),
        .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = 2,
    };
    Elf32_Phdr ph[2] = {
        { .p_type = PT_LOAD, .p_offset = TEXT_OFF, .p_paddr = TEXT_GPA, .p_vaddr = TEXT_GPA,
          .p_filesz = TEXT_SIZE, .p_memsz = TEXT_SIZE, .p_flags = PF_R | PF_X },
        { .p_type = PT_LOAD, .p_offset = DATA_OFF, .p_paddr = DATA_GPA, .p_vaddr = DATA_GPA,
          .p_filesz = DATA_FILE, .p_memsz = DATA_MEM, .p_flags = PF_R | PF_W },
    };

    memset(file, 0xcc, sizeof(file));
    memcpy(file, &eh, sizeof(eh));
    memcpy(file + eh.e_phoff, ph, sizeof(ph));
    header(HDR_OFF, 0x3); /* page-aligned modules, memory information */
}

static Elf32_Phdr *phdr(unsigned i)
{
    return (Elf32_Phdr *)(file + sizeof(Elf32_Ehdr)) + i;
}

static void setup(void)
{
    ram = g_malloc(RAM_SIZE);
    memset(ram, 0x5a, RAM_SIZE);
    mem = (struct guest_mem){ .regions = { { .gpa = 0, .size = RAM_SIZE, .hva = ram } }, .nr = 1 };
    ck_assert(arch_layout(RAM_SIZE, 2, true, &layout, NULL));
    make_elf();
}

static void teardown(void)
{
    g_free(ram);
}

static struct linux_image image(uint8_t *initrd, size_t initrd_size)
{
    return (struct linux_image){
        .kernel_path = "k.flat", .kernel = file, .kernel_size = sizeof(file),
        .initrd_path = initrd ? "env" : NULL, .initrd = initrd, .initrd_size = initrd_size,
    };
}

/* The check's one-line error, or NULL when it passes. */
static char *check_error(const struct linux_image *li, struct x86_multiboot_plan *p)
{
    GError *err = NULL;
    char *msg;

    if (x86_multiboot_check(li, "k.flat", &layout, p, &err))
        return NULL;
    ck_assert_ptr_null(strchr(err->message, '\n'));
    msg = g_strdup(err->message);
    g_error_free(err);
    return msg;
}

static void assert_refused(const char *part)
{
    struct linux_image li = image(NULL, 0);
    struct x86_multiboot_plan p;
    g_autofree char *msg = check_error(&li, &p);

    ck_assert_msg(msg != NULL, "accepted; expected \"%s\"", part);
    ck_assert_msg(strstr(msg, part), "\"%s\" lacks \"%s\"", msg, part);
}

START_TEST(finds_the_header)
{
    size_t off;

    ck_assert(x86_multiboot_find(file, sizeof(file), &off));
    ck_assert_uint_eq(off, HDR_OFF);
    put32(file, HDR_OFF + 8, get32(file, HDR_OFF + 8) + 1);   /* bad checksum */
    ck_assert(!x86_multiboot_find(file, sizeof(file), &off));
    header(HDR_OFF + 2, 0);                                     /* not 32-bit aligned */
    ck_assert(!x86_multiboot_find(file, sizeof(file), &off));
    ck_assert(!x86_multiboot_find(file, HDR_OFF + 11, &off));  /* cut short */
}
END_TEST

START_TEST(only_in_the_first_8k)
{
    g_autofree uint8_t *big = g_malloc0(16384);
    size_t off;

    memcpy(big + 8192 - 12, file + HDR_OFF, 12);
    ck_assert(x86_multiboot_find(big, 16384, &off));
    ck_assert_uint_eq(off, 8192 - 12);
    memset(big, 0, 16384);
    memcpy(big + 8192, file + HDR_OFF, 12);
    ck_assert(!x86_multiboot_find(big, 16384, &off));
}
END_TEST

START_TEST(loads_elf_and_boot_information)
{
    uint8_t initrd[5000];
    struct linux_image li = image(initrd, sizeof(initrd));
    struct x86_multiboot_plan p;
    const char *cmdline = "k.flat -v arg";
    GError *err = NULL;
    uint8_t *info = ram + X86_MULTIBOOT_INFO_ADDR;
    uint32_t flags, mods, mmap, mmap_len;

    memset(initrd, 0xe1, sizeof(initrd));
    ck_assert_msg(x86_multiboot_check(&li, cmdline, &layout, &p, &err), "%s",
                  err ? err->message : "");
    ck_assert_msg(x86_multiboot_load(&mem, &li, cmdline, &p, &layout, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(p.entry, TEXT_GPA + 12);
    /* the segments: file bytes, then bss zeroed, and nothing beyond */
    ck_assert(!memcmp(ram + TEXT_GPA, file + TEXT_OFF, TEXT_SIZE));
    ck_assert_uint_eq(ram[TEXT_GPA + TEXT_SIZE], 0x5a);
    ck_assert(!memcmp(ram + DATA_GPA, file + DATA_OFF, DATA_FILE));
    for (uint64_t a = DATA_GPA + DATA_FILE; a < DATA_GPA + DATA_MEM; a++)
        ck_assert_uint_eq(ram[a], 0);

    flags = get32(info, 0);
    ck_assert_uint_eq(flags & 0x4d, 0x4d); /* memory, cmdline, modules, memory map */
    ck_assert_uint_eq(get32(info, 4), 639);
    ck_assert_uint_eq(get32(info, 8), (layout.load_hi - 0x100000) >> 10);
    ck_assert_str_eq((char *)ram + get32(info, 16), cmdline);
    /* the initrd, the one module: page-aligned after the image, copied */
    ck_assert_uint_eq(get32(info, 20), 1);
    mods = get32(info, 24);
    ck_assert_uint_eq(get32(ram, mods), (DATA_GPA + DATA_MEM + 0xfff) & ~0xfffU);
    ck_assert_uint_eq(get32(ram, mods + 4) - get32(ram, mods), sizeof(initrd));
    ck_assert(!memcmp(ram + get32(ram, mods), initrd, sizeof(initrd)));
    /* the memory map: low RAM, the BIOS hole, RAM from 1 MiB to what vmm
     * reserves, that reservation */
    mmap_len = get32(info, 44);
    mmap = get32(info, 48);
    ck_assert_uint_eq(mmap_len, 4 * 24);
    ck_assert_uint_eq(get32(ram, mmap), 20);
    ck_assert_uint_eq(get64(ram, mmap + 4), 0);
    ck_assert_uint_eq(get32(ram, mmap + 20), 1);
    ck_assert_uint_eq(get32(ram, mmap + 24 + 20), 2);
    ck_assert_uint_eq(get64(ram, mmap + 48 + 4), 0x100000);
    ck_assert_uint_eq(get64(ram, mmap + 48 + 12), layout.load_hi - 0x100000);
    ck_assert_uint_eq(get32(ram, mmap + 48 + 20), 1);
    ck_assert_uint_eq(get64(ram, mmap + 72 + 4) + get64(ram, mmap + 72 + 12), RAM_SIZE);
    ck_assert_uint_eq(get32(ram, mmap + 72 + 20), 2);
}
END_TEST

/* Flag 16: the header's addresses, the file loaded from load_addr. */
START_TEST(loads_by_header_addresses)
{
    struct linux_image li = image(NULL, 0);
    struct x86_multiboot_plan p;
    GError *err = NULL;
    uint32_t load = 0x200000, hdr = load + HDR_OFF;

    memset(file, 0x77, sizeof(file));
    header(HDR_OFF, 0x10002);
    put32(file, HDR_OFF + 12, hdr);
    put32(file, HDR_OFF + 16, load);
    put32(file, HDR_OFF + 20, load + 0x300);   /* load_end: 0x300 of the file */
    put32(file, HDR_OFF + 24, load + 0x1000);  /* bss_end */
    put32(file, HDR_OFF + 28, hdr + 32);
    ck_assert_msg(x86_multiboot_check(&li, "k", &layout, &p, &err), "%s", err ? err->message : "");
    ck_assert(x86_multiboot_load(&mem, &li, "k", &p, &layout, NULL));
    ck_assert_uint_eq(p.entry, hdr + 32);
    ck_assert(!memcmp(ram + load, file, 0x300));
    ck_assert_uint_eq(ram[load + 0x300], 0);
    ck_assert_uint_eq(ram[load + 0xfff], 0);
    ck_assert_uint_eq(ram[load + 0x1000], 0x5a);
}
END_TEST

static void addresses(uint32_t header_addr, uint32_t load, uint32_t load_end, uint32_t bss_end,
                      uint32_t entry)
{
    header(HDR_OFF, 0x10000);
    put32(file, HDR_OFF + 12, header_addr);
    put32(file, HDR_OFF + 16, load);
    put32(file, HDR_OFF + 20, load_end);
    put32(file, HDR_OFF + 24, bss_end);
    put32(file, HDR_OFF + 28, entry);
}

START_TEST(refuses_hostile_addresses)
{
    const uint32_t at = 0x200000;

    addresses(at, at + 4, 0, 0, at + 0x200);           /* load after the header */
    assert_refused("not at or before its header");
    addresses(at + HDR_OFF + 4, at, 0, 0, at + 0x200); /* header before the file */
    assert_refused("not at or before its header");
    addresses(at + HDR_OFF, at, at + FILE_SIZE + 1, 0, at + 0x200);
    assert_refused("load end");
    addresses(at + HDR_OFF, at, at - 1, 0, at);
    assert_refused("load end");
    addresses(at + HDR_OFF, at, at + 0x300, at + 0x2ff, at);
    assert_refused("bss end");
    addresses(at + HDR_OFF, at, 0, 0, at + FILE_SIZE);
    assert_refused("entry point");
    /* wrapping: bss to the top of the 32-bit space, and a load near it */
    addresses(at + HDR_OFF, at, 0, 0xffffffff, at);
    assert_refused("outside the RAM");
    addresses(0xffff0000 + HDR_OFF, 0xffff0000, 0, 0, 0xffff0000);
    assert_refused("outside the RAM");
    /* low RAM: open only between vmm's structures */
    addresses(0x100 + HDR_OFF, 0x100, 0, 0, 0x110);     /* the real-mode IVT */
    assert_refused("overlaps vmm's real-mode IVT");
    addresses(0x400 + HDR_OFF, 0x400, 0, 0, 0x410);     /* [0x400, 0x800): the GDT */
    assert_refused("overlaps vmm's GDT");
    addresses(0x7c00 + HDR_OFF, 0x7c00, 0, 0, 0x7c10);  /* the boot information */
    assert_refused("overlaps vmm's boot information");
    addresses(0x9fa00 + HDR_OFF, 0x9fa00, 0, 0, 0x9fa10); /* the BIOS hole */
    assert_refused("overlaps vmm's BIOS hole");
    addresses(0xfff00 + HDR_OFF, 0xfff00, 0, 0, 0xfff10); /* across 1 MiB: the hole */
    assert_refused("overlaps vmm's BIOS hole");
    /* bss from low RAM over everything up to 1 MiB */
    addresses(0x8000 + HDR_OFF, 0x8000, 0, 0x100400, 0x8010);
    assert_refused("overlaps vmm's page tables");
}
END_TEST

/* kvm-unit-tests' realmode.flat loads at 0x8000: low RAM clear of vmm's
 * structures takes a segment, and the module still goes above 1 MiB. */
START_TEST(loads_into_low_ram_between_vmm_structures)
{
    uint8_t initrd[100];
    struct linux_image li = image(initrd, sizeof(initrd));
    struct x86_multiboot_plan p;
    GError *err = NULL;
    uint64_t gdt = 0, info = 0;

    phdr(0)->p_paddr = 0x8000;
    phdr(1)->p_paddr = 0x9000;
    ((Elf32_Ehdr *)file)->e_entry = 0x8000 + 12;
    ck_assert_msg(x86_multiboot_check(&li, "k", &layout, &p, &err), "%s", err ? err->message : "");
    ck_assert_msg(x86_multiboot_load(&mem, &li, "k", &p, &layout, &err), "%s",
                  err ? err->message : "");
    ck_assert(!memcmp(ram + 0x8000, file + TEXT_OFF, TEXT_SIZE));
    ck_assert(!memcmp(ram + 0x9000, file + DATA_OFF, DATA_FILE));
    ck_assert_uint_eq(ram[0x9000 + DATA_MEM - 1], 0);
    ck_assert_uint_eq(ram[0x9000 + DATA_MEM], 0x5a);
    ck_assert_uint_eq(p.module_gpa, 0x100000);
    ck_assert(!memcmp(ram + 0x100000, initrd, sizeof(initrd)));
    ck_assert_uint_eq(get32(ram, 0x7000 + 20), 1);
    /* the gaps are exactly what the layout leaves: each region's edges */
    for (unsigned i = 0; i < layout.nr_regions; i++) {
        if (g_str_has_prefix(layout.regions[i].name, "GDT"))
            gdt = layout.regions[i].gpa + layout.regions[i].size;
        if (g_str_has_prefix(layout.regions[i].name, "boot information"))
            info = layout.regions[i].gpa;
    }
    ck_assert_uint_ne(gdt, 0);
    ck_assert_uint_eq(info, X86_MULTIBOOT_INFO_ADDR);
    phdr(0)->p_paddr = gdt;                             /* right after the GDT */
    phdr(1)->p_paddr = info - DATA_MEM;                 /* ends at the information */
    ((Elf32_Ehdr *)file)->e_entry = gdt;
    ck_assert_msg(x86_multiboot_check(&li, "k", &layout, &p, &err), "%s", err ? err->message : "");
    phdr(0)->p_paddr = gdt - 1;
    assert_refused("overlaps vmm's GDT");
    phdr(0)->p_paddr = gdt;
    phdr(1)->p_paddr = info - DATA_MEM + 1;
    assert_refused("overlaps vmm's boot information");
}
END_TEST

START_TEST(refuses_hostile_elf)
{
    phdr(1)->p_paddr = RAM_SIZE - 0x1000;               /* bss past RAM's end */
    assert_refused("outside the RAM");
    make_elf();
    phdr(1)->p_paddr = 0xfffff000;                      /* wraps the 32-bit space */
    assert_refused("outside the RAM");
    make_elf();
    phdr(1)->p_paddr = layout.load_hi - DATA_MEM + 1;   /* over vmm's reservations */
    assert_refused("outside the RAM");
    make_elf();
    phdr(1)->p_paddr = 0x20000 - 0x10;                  /* over the command line */
    assert_refused("overlaps vmm's command line");
    make_elf();
    phdr(1)->p_paddr = 0x10000;                         /* over the page tables */
    assert_refused("overlaps vmm's page tables");
    make_elf();
    phdr(1)->p_paddr = 0xffffff00;                      /* wraps from the top to 0 */
    phdr(1)->p_memsz = 0x200;
    assert_refused("outside the RAM");
    make_elf();
    phdr(1)->p_paddr = TEXT_GPA + TEXT_SIZE - 1;        /* overlapping */
    assert_refused("overlap");
    make_elf();
    phdr(1)->p_filesz = DATA_MEM + 1;
    assert_refused("outside the file");
    make_elf();
    phdr(1)->p_offset = FILE_SIZE - DATA_FILE + 1;
    assert_refused("outside the file");
    make_elf();
    phdr(1)->p_offset = 0xffffffff;
    assert_refused("outside the file");
    make_elf();
    ((Elf32_Ehdr *)file)->e_entry = DATA_GPA + DATA_MEM;
    assert_refused("entry point");
    make_elf();
    ((Elf32_Ehdr *)file)->e_phnum = 0xffff;
    assert_refused("corrupt program headers");
    make_elf();
    ((Elf32_Ehdr *)file)->e_machine = EM_X86_64;
    assert_refused("ELF32 i386");
    make_elf();
    phdr(0)->p_type = PT_NOTE;
    phdr(1)->p_type = PT_NOTE;
    assert_refused("no loadable segments");
    make_elf();
    memset(file, 0, 4);                                 /* not ELF, no addresses */
    assert_refused("header flag 16");
}
END_TEST

START_TEST(refuses_what_it_cannot_give)
{
    header(HDR_OFF, 0x4);
    assert_refused("video mode");
    header(HDR_OFF, 0x8);
    assert_refused("header flags 0x8");
    memset(file + HDR_OFF, 0, 12);
    assert_refused("no multiboot header");
}
END_TEST

START_TEST(refuses_an_initrd_that_does_not_fit)
{
    g_autofree uint8_t *big = g_malloc0(RAM_SIZE);
    struct linux_image li = image(big, layout.load_hi - 0x40b000 + 1);
    struct x86_multiboot_plan p;
    g_autofree char *msg = check_error(&li, &p);

    ck_assert_ptr_nonnull(msg);
    ck_assert_msg(strstr(msg, "initrd: env:") && strstr(msg, "do not fit"), "%s", msg);
    li.initrd_size--;
    ck_assert_ptr_null(check_error(&li, &p));
    ck_assert_uint_eq(p.module_gpa + li.initrd_size, layout.load_hi);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("multiboot");
    TCase *tc = tcase_create("multiboot");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, finds_the_header);
    tcase_add_test(tc, only_in_the_first_8k);
    tcase_add_test(tc, loads_elf_and_boot_information);
    tcase_add_test(tc, loads_by_header_addresses);
    tcase_add_test(tc, refuses_hostile_addresses);
    tcase_add_test(tc, loads_into_low_ram_between_vmm_structures);
    tcase_add_test(tc, refuses_hostile_elf);
    tcase_add_test(tc, refuses_what_it_cannot_give);
    tcase_add_test(tc, refuses_an_initrd_that_does_not_fit);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
