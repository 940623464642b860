/* x86_64 only (meson builds it there): the bzImage loader over a fake
 * guest RAM. A kernel and initrd for 4 vCPUs land where the zero page
 * says, and vmm's own structures stay untouched (the initrd used to be
 * placed at the very top of RAM, over the stacks and ucall structures). */
#include <check.h>
#include <string.h>

#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/guest_mem.h"
#include "x86-linux.h"

#include "unit.h"

START_TEST(loads_beside_reservations)
{
    const uint64_t ram_size = 64 << 20;
    uint8_t kernel[5 * 512 + 4096], initrd[3 * 4096 + 5];
    struct linux_image li = {
        .kernel_path = "k", .kernel = kernel, .kernel_size = unit_make_bzimage(kernel, 16 << 20, 8 << 20),
        .initrd_path = "i", .initrd = initrd, .initrd_size = sizeof(initrd),
    };
    uint8_t *ram = g_malloc(ram_size);
    struct guest_mem mem = {
        .regions = { { .gpa = 0, .size = ram_size, .hva = ram } }, .nr = 1,
    };
    struct x86_linux_plan p;
    struct vm_layout l;
    GError *err = NULL;
    uint32_t v32;

    memset(kernel + 5 * 512, 0xc3, 4096);
    memset(initrd, 0x1d, sizeof(initrd));
    memset(ram, 0x5a, ram_size);
    ck_assert(arch_layout(ram_size, 4, true, &l, NULL));
    ck_assert(x86_bzimage_check(&li, "console=ttyS0", &l, &p, &err));
    ck_assert_msg(x86_bzimage_load(&mem, &li, "console=ttyS0", &p, ram_size, 0xe0000, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(p.entry, (16 << 20) + 0x200);
    ck_assert_uint_eq(ram[16 << 20], 0xc3);
    ck_assert_uint_eq(ram[(16 << 20) + 4096], 0x5a);
    /* the initrd: page-aligned, as high as it goes, below the ucall area */
    ck_assert_uint_eq(p.initrd_gpa & 0xfff, 0);
    ck_assert_uint_le(p.initrd_gpa + sizeof(initrd), l.ucall_gpa);
    ck_assert_uint_gt(p.initrd_gpa + sizeof(initrd) + 4096, l.ucall_gpa);
    for (uint64_t a = l.ucall_gpa; a < ram_size; a++)
        ck_assert_uint_eq(ram[a], 0x5a);
    memcpy(&v32, ram + 0x7000 + 0x218, 4);
    ck_assert_uint_eq(v32, p.initrd_gpa);
    memcpy(&v32, ram + 0x7000 + 0x21c, 4);
    ck_assert_uint_eq(v32, sizeof(initrd));
    memcpy(&v32, ram + 0x7000 + 0x228, 4);
    ck_assert_str_eq((char *)ram + v32, "console=ttyS0");
    g_free(ram);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bzimage");
    TCase *tc = tcase_create("bzimage");

    tcase_add_test(tc, loads_beside_reservations);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
