/*
 * [vm] hyperv: KVM's Hyper-V enlightenments, as QEMU's
 * `-cpu host,hv_passthrough` gives them. KVM emulates all of it (the
 * synthetic MSRs, the reference TSC page, SynIC and its timers, the
 * hypercalls it knows); vmm only shows the guest the CPUID leaves KVM
 * supports, switches SynIC on per vCPU, and answers the few exits KVM
 * leaves to userspace.
 *
 * Hyper-V owns CPUID 0x40000000-0x400000ff, where KVM's own leaves sit by
 * default; those move to 0x40000100 (KVM finds its leaves by their
 * signature, in steps of 0x100, as Linux guests do).
 *
 * KVM checks its Xen hypercall intercept before Hyper-V's hypercalls, and
 * vmm's intercept MSR is Hyper-V's guest OS ID MSR: with hyperv on, vmm
 * sets up no intercept (arch_vm_init), so vmcall is KVM's and Hyper-V's,
 * and the config refuses a policy that allows vmm's calls.
 */
#include <asm/kvm_para.h>
#include <errno.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/vm.h"
#include "x86.h"

#define HV_CPUID_INTERFACE 0x40000001U
#define HV_CPUID_INTERFACE_EAX 0x31237648U /* "Hv#1" */
#define HV_CPUID_RANGE_END 0x400000ffU
#define KVM_CPUID_MOVED 0x100U             /* KVM's leaves: 0x40000100 on */

/* Hyper-V's status for a hypercall code it does not know. */
#define HV_STATUS_INVALID_HYPERCALL_CODE 2

static bool need_cap(int fd, long cap, const char *name, GError **error)
{
    if (kvm_check_cap(fd, cap) > 0)
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_KVM,
                "[vm] hyperv: this host's KVM lacks %s", name);
    return false;
}

static struct kvm_cpuid2 *supported_hv_cpuid(struct vm *vm, GError **error)
{
    for (int nent = 32;; nent *= 2) {
        struct kvm_cpuid2 *hv = g_malloc0(sizeof(*hv) + nent * sizeof(hv->entries[0]));
        int r;

        hv->nent = nent;
        r = __vmm_ioctl(vm->kvm->fd, KVM_GET_SUPPORTED_HV_CPUID, hv);
        if (r == 0)
            return hv;
        g_free(hv);
        if (r != -E2BIG || nent >= 1024) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_KVM,
                        "[vm] hyperv: KVM_GET_SUPPORTED_HV_CPUID: %s", g_strerror(-r));
            return NULL;
        }
    }
}

bool x86_hyperv_init(struct vm *vm, GError **error)
{
    const struct kvm_cpuid2 *base = vm->arch.cpuid;
    g_autofree struct kvm_cpuid2 *hv = NULL;
    struct kvm_cpuid2 *merged;
    bool interface = false;
    unsigned n = 0;

    vm->arch.kvm_cpuid_base = KVM_CPUID_SIGNATURE;
    if (!(vm->flags & VM_HYPERV))
        return true;
    if (!need_cap(vm->kvm->fd, KVM_CAP_SYS_HYPERV_CPUID, "KVM_CAP_SYS_HYPERV_CPUID", error) ||
        !need_cap(vm->fd, KVM_CAP_HYPERV, "KVM_CAP_HYPERV", error) ||
        !need_cap(vm->fd, KVM_CAP_HYPERV_SYNIC2, "KVM_CAP_HYPERV_SYNIC2", error))
        return false;
    hv = supported_hv_cpuid(vm, error);
    if (!hv)
        return false;

    merged = g_malloc0(sizeof(*merged) + (base->nent + hv->nent) * sizeof(merged->entries[0]));
    for (unsigned i = 0; i < base->nent; i++) {
        struct kvm_cpuid_entry2 e = base->entries[i];

        if (e.function >= KVM_CPUID_SIGNATURE && e.function <= HV_CPUID_RANGE_END) {
            e.function += KVM_CPUID_MOVED;
            /* The signature leaf's eax is the last leaf of its range. */
            if (e.function == KVM_CPUID_SIGNATURE + KVM_CPUID_MOVED && e.eax >= KVM_CPUID_SIGNATURE &&
                e.eax <= HV_CPUID_RANGE_END)
                e.eax += KVM_CPUID_MOVED;
        }
        merged->entries[n++] = e;
    }
    for (unsigned i = 0; i < hv->nent; i++) {
        const struct kvm_cpuid_entry2 *e = &hv->entries[i];

        /* Only Hyper-V's range: anything else KVM named stays as it was. */
        if (e->function < KVM_CPUID_SIGNATURE || e->function > HV_CPUID_RANGE_END)
            continue;
        if (e->function == HV_CPUID_INTERFACE && e->eax == HV_CPUID_INTERFACE_EAX)
            interface = true;
        merged->entries[n++] = *e;
    }
    merged->nent = n;
    if (!interface) {
        g_free(merged);
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM,
                    "[vm] hyperv: KVM's Hyper-V CPUID has no Hyper-V interface leaf");
        return false;
    }
    g_free(vm->arch.cpuid);
    vm->arch.cpuid = merged;
    vm->arch.kvm_cpuid_base = KVM_CPUID_SIGNATURE + KVM_CPUID_MOVED;
    return true;
}

/* SynIC (and with it the synthetic timers): KVM needs the in-kernel LAPIC,
 * which kernel boots have (the config refuses hyperv on firmware boots). */
bool x86_hyperv_vcpu_init(struct vcpu *vcpu, GError **error)
{
    struct kvm_enable_cap cap = { .cap = KVM_CAP_HYPERV_SYNIC2 };

    if (!(vcpu->vm->flags & VM_HYPERV))
        return true;
    return vmm_ioctl(vcpu->fd, KVM_ENABLE_CAP, &cap, error) >= 0;
}

/*
 * KVM_EXIT_HYPERV: a SynIC MSR changed (KVM has already done what the
 * guest asked; the Hyper-V test device, if the VM has it, learns where the
 * vCPU's message and event pages are), a hypercall KVM leaves to userspace
 * (the test device's message and event connections; any other gets
 * Hyper-V's "invalid hypercall code"), or a synthetic debugger MSR (vmm
 * has no debugger: ignored, as the write took effect).
 */
void x86_handle_hyperv(struct vcpu *vcpu)
{
    struct kvm_hyperv_exit *h = &vcpu->run->hyperv;
    struct hyperv_testdev *t = vcpu->vm->arch.hv_testdev;
    uint64_t status;

    switch (h->type) {
    case KVM_EXIT_HYPERV_SYNIC:
        /* KVM gives vCPU n VP index n. */
        if (t)
            hyperv_testdev_synic(t, vcpu->id, h->u.synic.msr, h->u.synic.control,
                                 h->u.synic.evt_page, h->u.synic.msg_page);
        break;
    case KVM_EXIT_HYPERV_SYNDBG:
        break;
    case KVM_EXIT_HYPERV_HCALL:
        if (t && hyperv_testdev_hcall(t, h->u.hcall.input, h->u.hcall.params[0], &status))
            h->u.hcall.result = status;
        else
            h->u.hcall.result = HV_STATUS_INVALID_HYPERCALL_CODE;
        break;
    default:
        vcpu_crash(vcpu, "unexpected Hyper-V exit type %u", h->type);
        break;
    }
}
