/*
 * The x86_64 call conduit: vmcall (and AMD's vmmcall) reach vmm through
 * KVM's Xen hypercall intercept, the one route KVM offers for every
 * hypercall number. KVM reports the caller's CPL but enforces nothing:
 * the refusals a guest sees (#UD, #GP(0), -EINVAL) are raised here, for
 * vmm's own IDs only; KVM's hypercall numbers get KVM's answers
 * (hypercall.c).
 */
#include <errno.h>
#include <linux/kvm_para.h>
#include <string.h>

#include "vmm/calls.h"
#include "vmm/error.h"
#include "vmm/vm.h"
#include "vmm-guest/calls.h"
#include "hypercall.h"
#include "x86.h"

/* KVM only intercepts when an MSR for the Xen hypercall page is named;
 * guests never see a Xen CPUID signature, so none will write it. */
#define XEN_HYPERCALL_PAGE_MSR 0x40000000U

#define X86_VECTOR_UD 6
#define X86_VECTOR_GP 13

bool x86_vmcall_init(struct vm *vm, GError **error)
{
    struct kvm_xen_hvm_config cfg = {
        .flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
        .msr = XEN_HYPERCALL_PAGE_MSR,
    };

    /* Hyper-V's hypercalls and MSRs would reach the intercept (hyperv.c). */
    if ((vm->flags & VM_HYPERV) ||
        !(kvm_check_cap(vm->fd, KVM_CAP_XEN_HVM) & KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL)) {
        vm->arch.vmcall_unavailable = true;
        return true;
    }
    return vmm_ioctl(vm->fd, KVM_XEN_HVM_CONFIG, &cfg, error) >= 0;
}

bool x86_vmcall_available(struct vm *vm)
{
    return !vm->arch.vmcall_unavailable;
}

/*
 * Raises @vector at the vmcall itself. KVM completes an intercepted
 * hypercall (result in rax, rip past the instruction) at the next
 * KVM_RUN; an immediate_exit run lets it do so, and then the registers
 * from before the call are put back and the exception queued.
 */
static void raise_at_vmcall(struct vcpu *vcpu, unsigned vector, bool error_code)
{
    struct kvm_regs regs;
    struct kvm_vcpu_events ev;
    int r;

    if (__vmm_ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
        goto fail;
    __atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
    r = __vmm_ioctl(vcpu->fd, KVM_RUN, NULL);
    /* Keep a stop that vm_stop() asked for meanwhile. */
    __atomic_store_n(&vcpu->run->immediate_exit, vm_is_stopping(vcpu->vm), __ATOMIC_RELEASE);
    if (r != -EINTR)
        goto fail;
    if (__vmm_ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0 ||
        __vmm_ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
        goto fail;
    ev.exception.injected = 1;
    ev.exception.nr = vector;
    ev.exception.has_error_code = error_code;
    ev.exception.error_code = 0;
    ev.flags = 0;
    if (__vmm_ioctl(vcpu->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
        goto fail;
    return;
fail:
    vm_stop(vcpu->vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR,
            "vCPU %u: cannot raise exception %u at a refused vmcall", vcpu->id, vector);
}

/* Calls with several results also return them in rdi, rsi, rdx. */
static bool set_extra_results(struct vcpu *vcpu, const struct guest_call *call)
{
    struct kvm_regs regs;

    if (__vmm_ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
        return false;
    regs.rdi = call->ret[1];
    regs.rsi = call->ret[2];
    regs.rdx = call->ret[3];
    return __vmm_ioctl(vcpu->fd, KVM_SET_REGS, &regs) == 0;
}

/* A fixed (or other mode) interrupt to APIC ID @id, physical destination:
 * through KVM's MSI path, which its LAPICs take as the ICR would send it. */
static bool send_ipi(unsigned id, uint32_t msi_data, void *opaque)
{
    struct vm *vm = opaque;
    struct kvm_msi msi = {
        .address_lo = 0xfee00000U | (id << 12),
        .data = msi_data,
    };

    return id <= 0xff && __vmm_ioctl(vm->fd, KVM_SIGNAL_MSI, &msi) > 0;
}

/* KVM_HC_SEND_IPI (KVM's ABI: rbx, rcx = the bitmap, rdx = the first APIC
 * ID, rsi = the ICR's low half): KVM carries it out unless the VMM makes it
 * enforce PV CPUID bits, which QEMU does not, so vmm does it too (APIC ID
 * is the vCPU index: arch_vcpu_init). */
static uint64_t kvm_send_ipi(struct vcpu *vcpu, bool longmode)
{
    struct kvm_regs regs;

    if (__vmm_ioctl(vcpu->fd, KVM_GET_REGS, &regs) < 0)
        return (uint64_t)(int64_t)-KVM_EFAULT;
    return x86_kvm_send_ipi(regs.rbx, regs.rcx, regs.rdx, regs.rsi, vcpu->vm->nr_vcpus,
                            longmode, send_ipi, vcpu->vm);
}

void x86_handle_vmcall(struct vcpu *vcpu)
{
    struct kvm_xen_exit *x = &vcpu->run->xen;
    uint64_t input = x->u.hcall.input;
    struct guest_call call = {
        /* An ID with high bits set matches no entry. */
        .id = input > UINT32_MAX ? 0 : (uint32_t)input,
        .args = { x->u.hcall.params[0], x->u.hcall.params[1], x->u.hcall.params[2],
                  x->u.hcall.params[3] },
        .conduit = CONDUIT_VMCALL,
        .privilege = x->u.hcall.cpl,
    };
    call_status status;
    call_verdict v;

    if (x->type != KVM_EXIT_XEN_HCALL) {
        vcpu_crash(vcpu, "unexpected Xen exit type %u", x->type);
        return;
    }
    if (!x86_hypercall_is_vmm(input)) {
        bool longmode = x->u.hcall.longmode;

        if (x->u.hcall.cpl == 0 && (longmode ? input : (uint32_t)input) == KVM_HC_SEND_IPI)
            x->u.hcall.result = longmode ? kvm_send_ipi(vcpu, true)
                                         : (uint32_t)kvm_send_ipi(vcpu, false);
        else
            x->u.hcall.result = x86_kvm_hypercall_answer(input, x->u.hcall.cpl, longmode);
        return;
    }
    v = call_dispatch(vcpu, &call, &status);
    if (v == CALL_REFUSED_NO_CALLS) {
        raise_at_vmcall(vcpu, X86_VECTOR_UD, false);
        return;
    }
    if (v == CALL_REFUSED_PRIVILEGE) {
        raise_at_vmcall(vcpu, X86_VECTOR_GP, true);
        return;
    }
    if (v != CALL_ALLOWED || status != CALL_OK) {
        x->u.hcall.result = (uint64_t)(int64_t)VMM_X86_RET_EINVAL;
        return;
    }
    x->u.hcall.result = call.ret[0];
    if (call_lookup(call.id)->nr_results > 1 && !set_extra_results(vcpu, &call))
        vm_stop(vcpu->vm, VM_STOP_ERROR, VMM_EXIT_KVM_ERROR,
                "vCPU %u: cannot return the results of call %#x", vcpu->id, call.id);
}
