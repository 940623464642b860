/*
 * Which optional features an aarch64 vCPU is created with
 * (src/arch/aarch64/vcpu_features.c), from what KVM offers: the decision
 * behind the guest PMU and SVE, checked on any host (the bed's KVM may
 * lack one of them, so a boot alone would not exercise both ways).
 */
#include <check.h>

#include "vcpu_features.h"

#include "unit.h"

#define BIT(n) (1U << (n))

START_TEST(base_features)
{
    struct arm_host_features none = { 0 };

    ck_assert_uint_eq(arm_vcpu_features(&none, 0), BIT(ARM_FEATURE_PSCI_0_2));
    ck_assert_uint_eq(arm_vcpu_features(&none, 3),
                      BIT(ARM_FEATURE_PSCI_0_2) | BIT(ARM_FEATURE_POWER_OFF));
    ck_assert(!arm_vcpu_needs_finalize(arm_vcpu_features(&none, 0)));
}
END_TEST

START_TEST(pmu_where_kvm_has_it)
{
    struct arm_host_features pmu = { .pmu_v3 = true };
    uint32_t f = arm_vcpu_features(&pmu, 1);

    ck_assert_uint_eq(f & BIT(ARM_FEATURE_PMU_V3), BIT(ARM_FEATURE_PMU_V3));
    ck_assert_uint_eq(f & BIT(ARM_FEATURE_SVE), 0);
    ck_assert(!arm_vcpu_needs_finalize(f)); /* the PMU is set up through its attributes */
    ck_assert_uint_eq(ARM_PMU_INTID, 23);
}
END_TEST

START_TEST(sve_where_kvm_has_it_and_finalized)
{
    struct arm_host_features sve = { .sve = true }, both = { .pmu_v3 = true, .sve = true };
    uint32_t f = arm_vcpu_features(&sve, 0);

    ck_assert_uint_eq(f & BIT(ARM_FEATURE_SVE), BIT(ARM_FEATURE_SVE));
    ck_assert_uint_eq(f & BIT(ARM_FEATURE_PMU_V3), 0);
    ck_assert(arm_vcpu_needs_finalize(f));
    ck_assert_uint_eq(arm_vcpu_features(&both, 2),
                      BIT(ARM_FEATURE_PSCI_0_2) | BIT(ARM_FEATURE_POWER_OFF) |
                      BIT(ARM_FEATURE_PMU_V3) | BIT(ARM_FEATURE_SVE));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arm-features");
    TCase *tc = tcase_create("arm-features");

    tcase_add_test(tc, base_features);
    tcase_add_test(tc, pmu_where_kvm_has_it);
    tcase_add_test(tc, sve_where_kvm_has_it_and_finalized);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
