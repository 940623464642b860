/* aarch64 parts of struct vm and struct vcpu (included through vmm/arch.h). */
#ifndef VMM_ARCH_TYPES_H
#define VMM_ARCH_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/* [vm] cpu-features: none can be switched on aarch64 yet. */
struct cpu_features {
    uint64_t on, off;
};

struct arch_vm {
    int gic_fd;
    unsigned gic_version;              /* 2 or 3: what gic_create() made */
    bool mte;                          /* memory tagging ([vm] mte, KVM_CAP_ARM_MTE) */
    int its_fd;                        /* the GICv3 ITS, when its is set */
    bool its;                          /* KVM made one (KVM_DEV_TYPE_ARM_VGIC_ITS) */
    bool pmu;                          /* vCPUs have a PMU (KVM_CAP_ARM_PMU_V3) */
    bool sve;                          /* vCPUs have SVE (KVM_CAP_ARM_SVE) */
    uint64_t dtb_gpa;
    uint64_t initrd_start, initrd_end; /* Linux boot; equal when there is none */
};

struct arch_vcpu {
    uint64_t mpidr;
};

#endif
