/* aarch64 parts of struct vm and struct vcpu (included through vmm/arch.h). */
#ifndef VMM_ARCH_TYPES_H
#define VMM_ARCH_TYPES_H

#include <stdint.h>

struct arch_vm {
    int gic_fd;
    uint64_t dtb_gpa;
};

struct arch_vcpu {
    uint64_t mpidr;
};

#endif
