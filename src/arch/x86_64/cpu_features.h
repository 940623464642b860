/* x86_64 CPUID features a config can switch ([vm] cpu-features). */
#ifndef VMM_X86_CPU_FEATURES_H
#define VMM_X86_CPU_FEATURES_H

#include <stdbool.h>
#include <stdint.h>

struct kvm_cpuid2;
struct cpu_features;

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct x86_cpu_feature {
    const char *name;   /* QEMU's name for it */
    uint32_t function, index;
    enum cpuid_reg reg;
    unsigned bit;
    /* KVM emulates it without listing it in KVM_GET_SUPPORTED_CPUID; this
     * capability says it can be given. */
    long cap;
};

extern const struct x86_cpu_feature x86_cpu_features[];
extern const unsigned x86_cpu_features_len;

/* The feature of @cpuid that @f names, NULL when @cpuid has no such leaf. */
uint32_t *x86_cpuid_reg(struct kvm_cpuid2 *cpuid, const struct x86_cpu_feature *f);
/* @f's switches applied to @cpuid (a vCPU's copy of KVM's supported set). */
void x86_cpu_features_apply(struct kvm_cpuid2 *cpuid, const struct cpu_features *f);
/* The first feature @f turns on that @supported lacks (and, for one
 * KVM emulates, @has_cap(cap) denies), or NULL. */
const struct x86_cpu_feature *x86_cpu_features_missing(struct kvm_cpuid2 *supported,
                                                       const struct cpu_features *f,
                                                       bool (*has_cap)(long cap, void *data),
                                                       void *data);

#endif
