/*
 * [vm] cpu-features on x86_64 (src/arch/x86_64/cpu_features.c): the list's
 * syntax, the bits it switches in a vCPU's CPUID, and which features KVM
 * cannot give, on made-up supported sets (the bed's KVM has one set only).
 */
#include <check.h>
#include <linux/kvm.h>

#include "vmm/arch.h"
#include "cpu_features.h"

#include "unit.h"

/* KVM's supported set, small: leaf 1 with PCID and x2APIC, leaf 7.0 with
 * SMEP and UMIP, no leaf 0x80000001. */
static struct kvm_cpuid2 *supported(void)
{
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + 3 * sizeof(c->entries[0]));

    c->nent = 3;
    c->entries[0] = (struct kvm_cpuid_entry2){ .function = 1,
                                               .ecx = (1U << 17) | (1U << 21) | 1 };
    c->entries[1] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0,
                                               .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                                               .ebx = 1U << 7, .ecx = 1U << 2 };
    c->entries[2] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1,
                                               .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
                                               .ebx = 0xffffffff, .ecx = 0xffffffff };
    return c;
}

static bool no_cap(long cap, void *data)
{
    (void)cap;
    (void)data;
    return false;
}

static bool all_caps(long cap, void *data)
{
    (void)data;
    return cap == KVM_CAP_TSC_DEADLINE_TIMER;
}

static const char *problem_of(const char *text)
{
    static char *problem;
    struct cpu_features f;

    g_clear_pointer(&problem, g_free);
    if (arch_cpu_features_parse(text, &f, &problem))
        return NULL;
    return problem;
}

START_TEST(parse)
{
    struct cpu_features f;
    g_autofree char *problem = NULL;

    ck_assert(arch_cpu_features_parse("", &f, &problem));
    ck_assert(!f.on && !f.off);
    ck_assert(arch_cpu_features_parse("-x2apic,+tsc-deadline,+pcid", &f, &problem));
    ck_assert_uint_eq(__builtin_popcountll(f.on), 2);
    ck_assert_uint_eq(__builtin_popcountll(f.off), 1);
    ck_assert_ptr_null(problem);

    ck_assert_ptr_nonnull(strstr(problem_of("x2apic"), "+NAME or -NAME"));
    ck_assert_ptr_nonnull(strstr(problem_of("+x2apic,"), "is not +NAME"));
    ck_assert_ptr_nonnull(strstr(problem_of(","), "is not +NAME"));
    ck_assert_ptr_nonnull(strstr(problem_of("+"), "not a CPU feature"));
    ck_assert_ptr_nonnull(strstr(problem_of("+svm"), "known: pcid, x2apic"));
    ck_assert_ptr_nonnull(strstr(problem_of("+X2APIC"), "not a CPU feature"));
    ck_assert_ptr_nonnull(strstr(problem_of("+x2apic,-x2apic"), "named twice"));
    ck_assert_ptr_null(problem_of("+la57,-rdtscp,+umip"));
}
END_TEST

START_TEST(apply_switches_only_named_bits)
{
    g_autofree struct kvm_cpuid2 *c = supported();
    struct cpu_features f;
    g_autofree char *problem = NULL;

    ck_assert(arch_cpu_features_parse("-x2apic,+invpcid,-umip,+rdtscp", &f, &problem));
    x86_cpu_features_apply(c, &f);
    ck_assert_uint_eq(c->entries[0].ecx, (1U << 17) | 1);                 /* x2apic off */
    ck_assert_uint_eq(c->entries[1].ebx, (1U << 7) | (1U << 10));         /* invpcid on */
    ck_assert_uint_eq(c->entries[1].ecx, 0);                              /* umip off */
    /* subleaf 1 of leaf 7 is not subleaf 0: untouched */
    ck_assert_uint_eq(c->entries[2].ebx, 0xffffffff);
    ck_assert_uint_eq(c->entries[2].ecx, 0xffffffff);
}
END_TEST

START_TEST(missing_what_kvm_cannot_give)
{
    g_autofree struct kvm_cpuid2 *c = supported();
    struct cpu_features f;
    g_autofree char *p1 = NULL, *p2 = NULL, *p3 = NULL, *p4 = NULL;

    /* in the supported set, or switched off: nothing is missing */
    ck_assert(arch_cpu_features_parse("+pcid,+x2apic,+smep,+umip,-la57,-rdtscp", &f, &p1));
    ck_assert_ptr_null(x86_cpu_features_missing(c, &f, no_cap, NULL));
    /* a bit KVM does not list */
    ck_assert(arch_cpu_features_parse("+pcid,+invpcid", &f, &p2));
    ck_assert_str_eq(x86_cpu_features_missing(c, &f, no_cap, NULL)->name, "invpcid");
    /* a leaf KVM does not list */
    ck_assert(arch_cpu_features_parse("+rdtscp", &f, &p3));
    ck_assert_str_eq(x86_cpu_features_missing(c, &f, no_cap, NULL)->name, "rdtscp");
    /* tsc-deadline: KVM's capability, not its CPUID */
    ck_assert(arch_cpu_features_parse("+tsc-deadline", &f, &p4));
    ck_assert_str_eq(x86_cpu_features_missing(c, &f, no_cap, NULL)->name, "tsc-deadline");
    ck_assert_ptr_null(x86_cpu_features_missing(c, &f, all_caps, NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cpu-features");
    TCase *tc = tcase_create("x86_64");

    tcase_add_test(tc, parse);
    tcase_add_test(tc, apply_switches_only_named_bits);
    tcase_add_test(tc, missing_what_kvm_cannot_give);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
