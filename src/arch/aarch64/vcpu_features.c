/* The optional features of an aarch64 vCPU (vcpu_features.h). */
#include "vcpu_features.h"

uint32_t arm_vcpu_features(const struct arm_host_features *host, unsigned vcpu_id)
{
    uint32_t f = 1U << ARM_FEATURE_PSCI_0_2;

    /* Secondaries sleep in KVM until the guest starts them with PSCI CPU_ON. */
    if (vcpu_id > 0)
        f |= 1U << ARM_FEATURE_POWER_OFF;
    if (host->pmu_v3)
        f |= 1U << ARM_FEATURE_PMU_V3;
    if (host->sve)
        f |= 1U << ARM_FEATURE_SVE;
    return f;
}

bool arm_vcpu_needs_finalize(uint32_t features)
{
    /* SVE's vector lengths are fixed (KVM's default: the host's) by
     * finalizing; a vCPU with SVE refuses to run until then. */
    return features & (1U << ARM_FEATURE_SVE);
}
