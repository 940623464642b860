/* Shared between the aarch64 architecture files. */
#ifndef VMM_AARCH64_H
#define VMM_AARCH64_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "arm-layout.h"

struct vm;
struct vcpu;

/* KVM_{GET,SET}_ONE_REG ids. */
#define ARM_CORE_REG(field) \
    (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | \
     (offsetof(struct kvm_regs, field) / sizeof(uint32_t)))
#define ARM_SYS_REG(op0, op1, crn, crm, op2) \
    (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | \
     ((uint64_t)(op0) << KVM_REG_ARM64_SYSREG_OP0_SHIFT) | \
     ((uint64_t)(op1) << KVM_REG_ARM64_SYSREG_OP1_SHIFT) | \
     ((uint64_t)(crn) << KVM_REG_ARM64_SYSREG_CRN_SHIFT) | \
     ((uint64_t)(crm) << KVM_REG_ARM64_SYSREG_CRM_SHIFT) | \
     ((uint64_t)(op2) << KVM_REG_ARM64_SYSREG_OP2_SHIFT))
#define REG_MPIDR_EL1 ARM_SYS_REG(3, 0, 0, 0, 5)
#define REG_ESR_EL1   ARM_SYS_REG(3, 0, 5, 2, 0)
#define REG_FAR_EL1   ARM_SYS_REG(3, 0, 6, 0, 0)
#define REG_VBAR_EL1  ARM_SYS_REG(3, 0, 12, 0, 0)

int arm_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value);
bool arm_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what,
                 GError **error);

/* vcpu.c: the vCPU's PMU, once the vGIC is initialised (vm->arch.pmu). */
bool arm_vcpu_pmu_init(struct vcpu *vcpu, GError **error);

/* smccc.c: the hvc/smc call conduit. */
void arm_handle_hypercall(struct vcpu *vcpu);

/* Builds the device tree for @vm into guest RAM at vm->arch.dtb_gpa. */
bool arm_fdt_build(struct vm *vm, const char *bootargs, GError **error);

#endif
