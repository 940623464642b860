/* The arm64 Image loader (src/arch/aarch64/image.c) and layout, built on
 * any host: header fields whose sums wrap, placement below the ucall
 * structures of every vCPU, and loads into a fake guest RAM. No KVM. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/layout.h"
#include "vmm/linux.h"
#include "vmm/guest_mem.h"
#include "image.h"

#include "unit.h"

#define MIB (1ULL << 20)

/* An Image of @file bytes: text_offset @text, image_size @size. */
static uint8_t *image(size_t file, uint64_t text, uint64_t size)
{
    uint8_t *d = g_malloc0(MAX(file, 64));

    memcpy(d + 8, &text, 8);
    memcpy(d + 16, &size, 8);
    memcpy(d + 56, "ARM\x64", 4);
    return d;
}

/* Checks (and when accepted, loads into a fake RAM) an Image with an
 * initrd of @initrd bytes in @ram bytes with @vcpus; NULL or the message. */
static char *boot(uint8_t *kernel, size_t file, size_t initrd, uint64_t ram, unsigned vcpus,
                  struct arm_linux_plan *p)
{
    struct linux_image li = {
        .kernel_path = "k", .kernel = kernel, .kernel_size = file,
        .initrd_path = initrd ? "i" : NULL, .initrd = initrd ? g_malloc0(initrd) : NULL,
        .initrd_size = initrd,
    };
    struct vm_layout l;
    GError *err = NULL;
    char *msg = NULL;

    ck_assert(arch_layout(ram, vcpus, true, &l, NULL));
    if (arm_image_check(&li, "panic=-1", &l, p, &err)) {
        struct guest_mem mem = {
            .regions = { { .gpa = l.ram_base, .size = ram, .hva = g_malloc(ram) } }, .nr = 1,
        };

        ck_assert(arm_image_load(&mem, &li, p, NULL));
        /* nothing lands on the ucall structures or the device tree */
        if (initrd)
            ck_assert_uint_le(p->initrd_gpa + initrd, l.ucall_gpa);
        ck_assert_uint_le(p->kernel_gpa + p->kernel_mem, l.ucall_gpa);
        g_free(mem.regions[0].hva);
    } else {
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    g_free(li.initrd);
    g_free(kernel);
    return msg;
}

#define expect_refused(msg, words) do { char *m_ = (msg); \
    ck_assert_msg(m_ && strstr(m_, words), "\"%s\" lacks \"%s\"", m_ ? m_ : "(accepted)", words); \
    ck_assert(!strchr(m_, '\n')); g_free(m_); } while (0)
#define expect_accepted(msg) do { char *m_ = (msg); \
    ck_assert_msg(!m_, "refused: %s", m_); } while (0)

START_TEST(sizes_that_wrap)
{
    struct arm_linux_plan p;

    expect_accepted(boot(image(4096, 0, 8 * MIB), 4096, 0, 64 * MIB, 1, &p));
    ck_assert_uint_eq(p.kernel_gpa, VMM_ARM_RAM_BASE);
    /* base + text_offset + image_size wraps to a small number */
    expect_refused(boot(image(4096, MIB, -(VMM_ARM_RAM_BASE + MIB) + 4096), 4096, 0, 64 * MIB, 1,
                        &p), "kernel: k: too large");
    expect_refused(boot(image(4096, 0, UINT64_MAX), 4096, 0, 64 * MIB, 1, &p),
                   "kernel: k: too large");
    expect_refused(boot(image(4096, 2ULL << 30, 4096), 4096, 0, 64 * MIB, 1, &p),
                   "corrupt arm64 Image header");
}
END_TEST

START_TEST(initrd_below_every_ucall_structure)
{
    struct arm_linux_plan p;
    struct vm_layout l;

    /* 64 vCPUs: 256 KiB of ucall structures below the device tree; the
     * initrd used to be placed as if there were one. */
    ck_assert(arch_layout(64 * MIB, 64, true, &l, NULL));
    expect_accepted(boot(image(4096, 0, 8 * MIB), 4096, 40 * MIB, 64 * MIB, 64, &p));
    ck_assert_uint_le(p.initrd_gpa + 40 * MIB, l.ucall_gpa);
    /* room for the initrd counts every vCPU's structure */
    expect_accepted(boot(image(4096, 0, 8 * MIB), 4096,
                         l.ucall_gpa - VMM_ARM_RAM_BASE - 8 * MIB, 64 * MIB, 64, &p));
    expect_refused(boot(image(4096, 0, 8 * MIB), 4096,
                        l.ucall_gpa - VMM_ARM_RAM_BASE - 8 * MIB + 1, 64 * MIB, 64, &p),
                   "initrd: i:");
}
END_TEST

START_TEST(raw_binary)
{
    struct arm_linux_plan p;

    expect_accepted(boot((uint8_t *)g_strdup("raw code"), 8, 0, 64 * MIB, 1, &p));
    ck_assert_uint_eq(p.kernel_gpa, VMM_ARM_RAM_BASE);
    expect_refused(boot((uint8_t *)g_memdup2("\177ELF\2\1\1", 8), 8, 0, 64 * MIB, 1, &p),
                   "not an arm64 Image (an ELF");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arm-image");
    TCase *tc = tcase_create("arm-image");

    tcase_add_test(tc, sizes_that_wrap);
    tcase_add_test(tc, initrd_below_every_ucall_structure);
    tcase_add_test(tc, raw_binary);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
