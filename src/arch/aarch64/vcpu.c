/* aarch64 vCPUs: KVM_ARM_VCPU_INIT with PSCI 0.2, and the PMU and SVE where
 * KVM has them (vcpu_features.c decides); secondaries wait for CPU_ON. */
#include "vmm/arch.h"
#include "vmm/error.h"
#include "vmm/vm.h"
#include "aarch64.h"
#include "vcpu_features.h"

G_STATIC_ASSERT(ARM_FEATURE_POWER_OFF == KVM_ARM_VCPU_POWER_OFF);
G_STATIC_ASSERT(ARM_FEATURE_PSCI_0_2 == KVM_ARM_VCPU_PSCI_0_2);
G_STATIC_ASSERT(ARM_FEATURE_PMU_V3 == KVM_ARM_VCPU_PMU_V3);
G_STATIC_ASSERT(ARM_FEATURE_SVE == KVM_ARM_VCPU_SVE);

#define PSTATE_EL1H_MASKED 0x3c5ULL /* EL1h, D, A, I, F masked */

int arm_get_reg(struct vcpu *vcpu, uint64_t id, uint64_t *value)
{
    struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)value };

    return __vmm_ioctl(vcpu->fd, KVM_GET_ONE_REG, &reg);
}

bool arm_set_reg(struct vcpu *vcpu, uint64_t id, uint64_t value, const char *what,
                 GError **error)
{
    struct kvm_one_reg reg = { .id = id, .addr = (uintptr_t)&value };

    if (vmm_ioctl(vcpu->fd, KVM_SET_ONE_REG, &reg, error) < 0) {
        g_prefix_error(error, "%s of vCPU %u: ", what, vcpu->id);
        return false;
    }
    return true;
}

bool arch_vcpu_init(struct vcpu *vcpu, GError **error)
{
    struct arm_host_features host = { .pmu_v3 = vcpu->vm->arch.pmu, .sve = vcpu->vm->arch.sve };
    struct kvm_vcpu_init init;

    if (vmm_ioctl(vcpu->vm->fd, KVM_ARM_PREFERRED_TARGET, &init, error) < 0)
        return false;
    init.features[0] |= arm_vcpu_features(&host, vcpu->id);
    if (vmm_ioctl(vcpu->fd, KVM_ARM_VCPU_INIT, &init, error) < 0) {
        g_prefix_error(error, "KVM_ARM_VCPU_INIT of vCPU %u: ", vcpu->id);
        return false;
    }
    if (arm_vcpu_needs_finalize(init.features[0])) {
        int what = KVM_ARM_VCPU_SVE;

        if (vmm_ioctl(vcpu->fd, KVM_ARM_VCPU_FINALIZE, &what, error) < 0) {
            g_prefix_error(error, "SVE of vCPU %u: ", vcpu->id);
            return false;
        }
    }
    if (arm_get_reg(vcpu, REG_MPIDR_EL1, &vcpu->arch.mpidr) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM, "KVM_GET_ONE_REG MPIDR_EL1 failed");
        return false;
    }
    return true;
}

/* Once the vGIC is initialised: the PMU's overflow interrupt, then the PMU. */
bool arm_vcpu_pmu_init(struct vcpu *vcpu, GError **error)
{
    int irq = ARM_PMU_INTID;
    struct kvm_device_attr attr = {
        .group = KVM_ARM_VCPU_PMU_V3_CTRL, .attr = KVM_ARM_VCPU_PMU_V3_IRQ,
        .addr = (uintptr_t)&irq,
    };

    if (vmm_ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &attr, error) < 0)
        goto fail;
    attr.attr = KVM_ARM_VCPU_PMU_V3_INIT;
    attr.addr = 0;
    if (vmm_ioctl(vcpu->fd, KVM_SET_DEVICE_ATTR, &attr, error) < 0)
        goto fail;
    return true;
fail:
    g_prefix_error(error, "PMU of vCPU %u: ", vcpu->id);
    return false;
}

/* arm64 machines sleep through PSCI, which KVM answers: no ACPI S3. */
bool arch_vcpu_s3_resume(struct vcpu *vcpu, GError **error)
{
    (void)vcpu;
    g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "no S3 on aarch64");
    return false;
}

bool arch_vcpu_boot_firmware(struct vcpu *vcpu, uint64_t entry, GError **error)
{
    if (vcpu->id > 0)
        return true;
    return arm_set_reg(vcpu, ARM_CORE_REG(regs.pstate), PSTATE_EL1H_MASKED, "pstate", error) &&
           arm_set_reg(vcpu, ARM_CORE_REG(regs.pc), entry, "pc", error) &&
           arm_set_reg(vcpu, ARM_CORE_REG(regs.regs[0]), vcpu->vm->arch.dtb_gpa, "x0", error);
}

const char ARCH_PC_NAME[] = "pc";

int arch_vcpu_pc(struct vcpu *vcpu, uint64_t *pc)
{
    return arm_get_reg(vcpu, ARM_CORE_REG(regs.pc), pc);
}

void arch_vcpu_dump(struct vcpu *vcpu, GString *out)
{
    static const struct { const char *name; uint64_t id; } regs[] = {
        { "pc", ARM_CORE_REG(regs.pc) },
        { "pstate", ARM_CORE_REG(regs.pstate) },
        { "sp_el1", ARM_CORE_REG(sp_el1) },
        { "elr_el1", ARM_CORE_REG(elr_el1) },
        { "esr_el1", REG_ESR_EL1 },
        { "far_el1", REG_FAR_EL1 },
        { "vbar_el1", REG_VBAR_EL1 },
        { "x0", ARM_CORE_REG(regs.regs[0]) },
        { "x1", ARM_CORE_REG(regs.regs[1]) },
        { "x2", ARM_CORE_REG(regs.regs[2]) },
        { "x3", ARM_CORE_REG(regs.regs[3]) },
        { "x29", ARM_CORE_REG(regs.regs[29]) },
        { "x30", ARM_CORE_REG(regs.regs[30]) },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(regs); i++) {
        uint64_t v;

        if (i % 4 == 0)
            g_string_append(out, "\n ");
        if (arm_get_reg(vcpu, regs[i].id, &v) < 0)
            g_string_append_printf(out, " %s=?", regs[i].name);
        else
            g_string_append_printf(out, " %s=%016llx", regs[i].name, (unsigned long long)v);
    }
}
