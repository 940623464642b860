/* x86_64 parts of struct vm and struct vcpu (included through vmm/arch.h). */
#ifndef VMM_ARCH_TYPES_H
#define VMM_ARCH_TYPES_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;
struct hyperv_testdev;

/* [vm] cpu-features: bits index the architecture's feature table. */
struct cpu_features {
    uint64_t on, off;
};

struct arch_vm {
    struct kvm_cpuid2 *cpuid; /* KVM_GET_SUPPORTED_CPUID, patched per vCPU */
    struct cpu_features cpu_features; /* [vm] cpu-features, applied per vCPU */
    uint32_t kvm_cpuid_base;  /* KVM's signature leaf: 0x40000100 under Hyper-V's */
    struct hyperv_testdev *hv_testdev; /* [vm] hyperv-test-device's, or NULL */
    bool vmcall_unavailable;  /* KVM cannot hand vmcall to vmm (no Xen intercept) */
    uint64_t stacks_top;      /* firmware: vCPU 0's stack ends here (vmm/layout.h) */
    uint64_t facs_gpa;        /* kernel boots with S3 (acpi_pm1): the FACS, else 0 */
};

struct arch_vcpu {
    int unused;
};

#endif
