/*
 * Which optional features an aarch64 vCPU is created with, decided from
 * what the host's KVM offers. Pure (plain numbers, no arm64 header): the
 * decision is unit-tested on any host.
 */
#ifndef VMM_ARM_VCPU_FEATURES_H
#define VMM_ARM_VCPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

/* KVM_ARM_VCPU_INIT feature bits (arm64 asm/kvm.h, checked in vcpu.c). */
#define ARM_FEATURE_POWER_OFF 0
#define ARM_FEATURE_PSCI_0_2  2
#define ARM_FEATURE_PMU_V3    3
#define ARM_FEATURE_SVE       4

/* The PMU overflow interrupt: PPI 7, INTID 23, as on QEMU's virt machine. */
#define ARM_PMU_PPI   7
#define ARM_PMU_INTID (16 + ARM_PMU_PPI)

/* What KVM offers (KVM_CHECK_EXTENSION on the VM). */
struct arm_host_features {
    bool pmu_v3; /* KVM_CAP_ARM_PMU_V3 */
    bool sve;    /* KVM_CAP_ARM_SVE */
};

/* The features[0] word of vCPU @vcpu_id's KVM_ARM_VCPU_INIT: PSCI 0.2
 * always, secondaries powered off, the PMU and SVE where KVM has them. */
uint32_t arm_vcpu_features(const struct arm_host_features *host, unsigned vcpu_id);
/* Whether the vCPU needs KVM_ARM_VCPU_FINALIZE (SVE) before it runs. */
bool arm_vcpu_needs_finalize(uint32_t features);

#endif
