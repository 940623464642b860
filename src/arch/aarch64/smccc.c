/*
 * The aarch64 call conduit: hvc and smc under the SMC Calling Convention.
 * KVM serves PSCI, TRNG, PTP and its other services in the kernel; vmm
 * governs those through KVM's firmware bitmap registers, and has KVM
 * forward the function IDs it serves itself (KVM_ARM_VM_SMCCC_FILTER,
 * Linux 6.4+) as KVM_EXIT_HYPERCALL. hvc and smc are the same call: the
 * SMC flag is recorded, never used to decide.
 */
#include <errno.h>

#include "vmm/calls.h"
#include "vmm/error.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"
#include "aarch64.h"
#include "smccc_decode.h"

/* Newer than the 6.1 uapi headers of the cross toolchain. */
#ifndef KVM_ARM_VM_SMCCC_CTRL
#define KVM_ARM_VM_SMCCC_CTRL 0
#define KVM_ARM_VM_SMCCC_FILTER 0
#define KVM_SMCCC_FILTER_HANDLE 0
#define KVM_SMCCC_FILTER_DENY 1
#define KVM_SMCCC_FILTER_FWD_TO_USER 2
struct kvm_smccc_filter {
    uint32_t base;
    uint32_t nr_functions;
    uint8_t action;
    uint8_t pad[15];
};
#endif
#ifdef KVM_HYPERCALL_EXIT_SMC
G_STATIC_ASSERT(KVM_HYPERCALL_EXIT_SMC == SMCCC_EXIT_SMC);
#endif

uint64_t arch_kvm_services(void)
{
    return SVC_BIT(SVC_TRNG) | SVC_BIT(SVC_PV_TIME) | SVC_BIT(SVC_KVM_FEATURES) |
           SVC_BIT(SVC_KVM_PTP);
}

/* What vmm answers itself: its own function range, and each call of
 * VMM_CALL_LIST outside it (the vendor hypervisor service's Call UID and
 * Revision queries); a call inside the range gets no entry of its own
 * (nr 0). */
#define FORWARD_OUTSIDE_RANGE(c, id, ...) \
    { (id), (id) >= VMM_CALL_BASE && (id) <= VMM_CALL_LAST ? 0 : 1 },
static const struct { uint32_t base, nr; } forwarded[] = {
    VMM_CALL_LIST(FORWARD_OUTSIDE_RANGE)
    { VMM_CALL_BASE, VMM_CALL_LAST - VMM_CALL_BASE + 1 },
};
#undef FORWARD_OUTSIDE_RANGE

static bool set_filter(struct vm *vm, GError **error)
{
    struct kvm_device_attr attr = {
        .group = KVM_ARM_VM_SMCCC_CTRL, .attr = KVM_ARM_VM_SMCCC_FILTER,
    };

    if (__vmm_ioctl(vm->fd, KVM_HAS_DEVICE_ATTR, &attr) < 0) {
        vmm_log("%s: this host's KVM cannot forward SMCCC calls (KVM_ARM_VM_SMCCC_FILTER "
                "needs Linux 6.4+): vmm's own hvc/smc services (vendor-hyp vmm-info, "
                "vmm-console, vmm-ucall, vmm-vm) are unavailable; the ucall doorbell and "
                "KVM's own services still work", vm->name);
        return true;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(forwarded); i++) {
        struct kvm_smccc_filter f = {
            .base = forwarded[i].base, .nr_functions = forwarded[i].nr,
            .action = KVM_SMCCC_FILTER_FWD_TO_USER,
        };

        if (!f.nr_functions)
            continue;
        attr.addr = (uintptr_t)&f;
        if (vmm_ioctl(vm->fd, KVM_SET_DEVICE_ATTR, &attr, error) < 0) {
            g_prefix_error(error, "SMCCC filter for %#x+%u: ", f.base, f.nr_functions);
            return false;
        }
    }
    return true;
}

/* KVM's firmware bitmap registers, and which services each bit is. */
static const struct { uint64_t reg; const char *name; service_owner owner; } bitmaps[] = {
    { KVM_REG_ARM_STD_BMAP, "KVM_REG_ARM_STD_BMAP", SVC_OWNER_STANDARD },
    { KVM_REG_ARM_STD_HYP_BMAP, "KVM_REG_ARM_STD_HYP_BMAP", SVC_OWNER_STANDARD_HYP },
    { KVM_REG_ARM_VENDOR_HYP_BMAP, "KVM_REG_ARM_VENDOR_HYP_BMAP", SVC_OWNER_VENDOR_HYP },
};

static uint64_t policy_bits(const struct vm_policy *p, service_owner owner)
{
    uint64_t bits = 0;

    for (int s = 0; s < SVC_COUNT; s++)
        if (service_table[s].owner == owner && service_table[s].kvm_bit >= 0 &&
            (p->services & SVC_BIT(s)))
            bits |= 1ULL << service_table[s].kvm_bit;
    return bits;
}

/* The registers are per VM, reached through any vCPU, and writable only
 * until a vCPU first runs: KVM then refuses (EBUSY) any change. */
static bool set_bitmaps(struct vm *vm, const struct vm_policy *policy, GError **error)
{
    struct vcpu *vcpu = &vm->vcpus[0];

    for (size_t i = 0; i < G_N_ELEMENTS(bitmaps); i++) {
        uint64_t have, want;

        if (arm_get_reg(vcpu, bitmaps[i].reg, &have) < 0) {
            vmm_log("%s: this host's KVM has no %s: its %s services cannot be narrowed "
                    "by the policy", vm->name, bitmaps[i].name,
                    service_owner_names[bitmaps[i].owner]);
            continue;
        }
        want = have & policy_bits(policy, bitmaps[i].owner);
        if (want != have && !arm_set_reg(vcpu, bitmaps[i].reg, want, bitmaps[i].name, error))
            return false;
    }
    return true;
}

bool arch_vm_apply_policy(struct vm *vm, const struct vm_policy *policy, GError **error)
{
    return set_bitmaps(vm, policy, error) && set_filter(vm, error);
}

/* smccc_call()'s registers: one ioctl each. */
struct arm_call_regs {
    struct smccc_regs ops;     /* first: the callbacks find the rest */
    struct vcpu *vcpu;
    uint32_t id;
};

static bool get_x(struct smccc_regs *regs, unsigned n, uint64_t *value)
{
    struct arm_call_regs *r = (struct arm_call_regs *)regs;

    if (arm_get_reg(r->vcpu, ARM_CORE_REG(regs.regs[n]), value) == 0)
        return true;
    vm_stop(r->vcpu->vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR,
            "vCPU %u: cannot read the arguments of call %#x", r->vcpu->id, r->id);
    return false;
}

static bool set_x(struct smccc_regs *regs, unsigned n, uint64_t value)
{
    struct arm_call_regs *r = (struct arm_call_regs *)regs;
    GError *error = NULL;

    if (arm_set_reg(r->vcpu, ARM_CORE_REG(regs.regs[n]), value, "call result", &error))
        return true;
    vm_stop(r->vcpu->vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR, "%s", error->message);
    g_error_free(error);
    return false;
}

void arm_handle_hypercall(struct vcpu *vcpu)
{
    struct arm_call_regs r = {
        .ops = { .get = get_x, .set = set_x },
        .vcpu = vcpu,
        .id = (uint32_t)vcpu->run->hypercall.nr,
    };

    /* KVM leaves the PC past the hvc/smc: only the results remain. */
    smccc_call(vcpu, vcpu->run->hypercall.nr, vcpu->run->hypercall.longmode, &r.ops);
}
