/* The machine layout (vmm/layout.h) across vCPU counts and RAM sizes, for
 * both boot kinds: every region and the image window inside RAM, nothing
 * overlapping, and the "needs at least N MiB" of a refusal exact. Built
 * against this build's architecture and, on other hosts, against
 * src/arch/aarch64/layout.c alone (it is pure). No KVM. */
#include <check.h>
#include <string.h>

#include "vmm/layout.h"

#include "unit.h"

#define MIB (1ULL << 20)

static bool overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
    return a < b + blen && b < a + alen;
}

static void check_sane(const struct vm_layout *l)
{
    uint64_t ram_end = l->ram_base + l->ram_size;

    ck_assert_uint_gt(l->load_hi, l->load_lo);
    ck_assert_uint_ge(l->load_lo, l->ram_base);
    ck_assert_uint_le(l->load_hi, ram_end);
    ck_assert_uint_eq(l->ucall_gpa & 0xfff, 0);
    for (unsigned i = 0; i < l->nr_regions; i++) {
        const struct layout_region *r = &l->regions[i];

        ck_assert_msg(r->size > 0, "%s is empty", r->name);
        ck_assert_msg(r->gpa >= l->ram_base && r->gpa + r->size <= ram_end,
                      "%s at %#llx+%#llx leaves RAM (%llu MiB, %u vCPUs)", r->name,
                      (unsigned long long)r->gpa, (unsigned long long)r->size,
                      (unsigned long long)(l->ram_size / MIB), l->nr_vcpus);
        ck_assert_msg(!overlap(r->gpa, r->size, l->load_lo, l->load_hi - l->load_lo),
                      "%s overlaps the image window (%llu MiB, %u vCPUs)", r->name,
                      (unsigned long long)(l->ram_size / MIB), l->nr_vcpus);
        for (unsigned j = 0; j < i; j++)
            ck_assert_msg(!overlap(r->gpa, r->size, l->regions[j].gpa, l->regions[j].size),
                          "%s overlaps %s (%llu MiB, %u vCPUs)", r->name, l->regions[j].name,
                          (unsigned long long)(l->ram_size / MIB), l->nr_vcpus);
        if (!strcmp(r->name, "ucall structures")) {
            ck_assert_uint_eq(r->gpa, l->ucall_gpa);
            ck_assert_uint_eq(r->size, (uint64_t)l->nr_vcpus * 4096);
        }
    }
}

/* A refusal's "needs at least N MiB": N is enough and N - 1 is not. */
static void check_minimum(const char *msg, unsigned vcpus, bool linux_boot)
{
    const char *p = strstr(msg, "needs at least ");
    unsigned long long need;
    struct vm_layout l;

    ck_assert_msg(!strchr(msg, '\n'), "%s", msg);
    if (!p) {
        ck_assert_msg(strstr(msg, "vm.vcpus") || strstr(msg, "memory"), "%s", msg);
        return;
    }
    ck_assert_msg(strstr(msg, "raise vm.memory"), "%s", msg);
    need = strtoull(p + strlen("needs at least "), NULL, 10);
    ck_assert_msg(arch_layout(need * MIB, vcpus, linux_boot, &l, NULL),
                  "%s, but %llu MiB are refused", msg, need);
    check_sane(&l);
    ck_assert_msg(!arch_layout((need - 1) * MIB, vcpus, linux_boot, &l, NULL),
                  "%s, but %llu MiB are enough", msg, need - 1);
}

static const uint64_t ram_mib[] = {
    1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 20, 24, 31, 32, 33, 64, 100, 128, 256, 300, 512,
    1024, 3072, 3073, 4096, 8192, 131072, 140000,
};

static void sweep(bool linux_boot)
{
    unsigned limit = arch_layout_max_vcpus(linux_boot), max = MIN(limit, 4096u);

    /* and one more than the limit, where there is one */
    for (unsigned v = 1; v <= max + (limit <= 4096); v += v < 300 || v >= max ? 1 : 37) {
        bool ok_before = false;

        for (size_t i = 0; i < G_N_ELEMENTS(ram_mib); i++) {
            struct vm_layout l;
            GError *err = NULL;
            bool ok = arch_layout(ram_mib[i] * MIB, v, linux_boot, &l, &err);

            if (ok) {
                ck_assert_uint_le(v, max);
                check_sane(&l);
                ok_before = true;
                continue;
            }
            check_minimum(err->message, v, linux_boot);
            /* More RAM never hurts, up to a boot kind's ceiling. */
            ck_assert_msg(!ok_before || !strstr(err->message, "needs at least"),
                          "%llu MiB refused after a smaller size passed: %s",
                          (unsigned long long)ram_mib[i], err->message);
            g_error_free(err);
        }
    }
}

START_TEST(firmware_layouts)
{
    sweep(false);
}
END_TEST

START_TEST(linux_layouts)
{
    sweep(true);
}
END_TEST

START_TEST(many_vcpus_little_ram)
{
    struct vm_layout l;
    GError *err = NULL;

    /* The example: 64 vCPUs in 2 MiB once wrapped (x86_64) */
    ck_assert(!arch_layout(2 * MIB, 64, false, &l, &err));
    ck_assert_msg(strstr(err->message, "for 64 vCPUs") && strstr(err->message, "raise vm.memory"),
                  "%s", err->message);
    g_clear_error(&err);
    ck_assert(!arch_layout(64 * MIB, 0, false, &l, &err));
    g_clear_error(&err);
    ck_assert(!arch_layout(64 * MIB, G_MAXUINT, false, &l, &err));
    g_clear_error(&err);
    ck_assert(!arch_layout(UINT64_MAX & ~0xfffffULL, 1, true, &l, &err));
    g_clear_error(&err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("layout");
    TCase *tc = tcase_create("layout");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, firmware_layouts);
    tcase_add_test(tc, linux_layouts);
    tcase_add_test(tc, many_vcpus_little_ram);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
