/*
 * KVM as the fuzzed code sees it through src/core/kvm.c's wrappers, for one
 * fake vCPU: its registers and events (x86_64), KVM_RUN as an
 * immediate_exit run that completes an intercepted hypercall the way KVM
 * does (result in rax, rip past the vmcall), and interrupt lines. Each
 * ioctl is counted and may be made to fail (fake_kvm.fail); an ioctl the
 * fake does not model fails with ENOTTY rather than pretending.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/kvm.h"
#include "fake.h"

struct fake_kvm_state fake_kvm;

void fake_kvm_reset(void)
{
    memset(&fake_kvm, 0, sizeof(fake_kvm));
    for (int i = 0; i < FAKE_IRQS; i++)
        fake_kvm.irq_level[i] = -1;
}

static enum fake_ioctl kind_of(unsigned long request)
{
    switch (request) {
#if defined(__x86_64__)
    case KVM_GET_REGS: return FAKE_GET_REGS;
    case KVM_SET_REGS: return FAKE_SET_REGS;
    case KVM_GET_VCPU_EVENTS: return FAKE_GET_EVENTS;
    case KVM_SET_VCPU_EVENTS: return FAKE_SET_EVENTS;
#endif
    case KVM_RUN: return FAKE_RUN;
    case KVM_IRQ_LINE: return FAKE_IRQ_LINE;
    default: return FAKE_OTHER;
    }
}

static int run(void)
{
    struct kvm_run *r = fake_kvm.run;

    /* The fake never enters a guest: only the immediate_exit run that
     * completes an exit is modelled; anything else is a bug in the caller. */
    if (!r || !__atomic_load_n(&r->immediate_exit, __ATOMIC_ACQUIRE)) {
        fprintf(stderr, "fake KVM_RUN without immediate_exit\n");
        abort();
    }
#if defined(__x86_64__)
    if (r->exit_reason == KVM_EXIT_XEN && r->xen.type == KVM_EXIT_XEN_HCALL) {
        fake_kvm.regs.rax = r->xen.u.hcall.result;
        fake_kvm.regs.rip += 3;
    }
#endif
    return -EINTR;
}

int __vmm_ioctl(int fd, unsigned long request, void *arg)
{
    enum fake_ioctl k = kind_of(request);

    fake_kvm.calls[k]++;
    if (fake_kvm.fail & (1U << k))
        return -EIO;
    switch (k) {
#if defined(__x86_64__)
    case FAKE_GET_REGS: memcpy(arg, &fake_kvm.regs, sizeof(fake_kvm.regs)); return 0;
    case FAKE_SET_REGS: memcpy(&fake_kvm.regs, arg, sizeof(fake_kvm.regs)); return 0;
    case FAKE_GET_EVENTS: memcpy(arg, &fake_kvm.events, sizeof(fake_kvm.events)); return 0;
    case FAKE_SET_EVENTS: memcpy(&fake_kvm.events, arg, sizeof(fake_kvm.events)); return 0;
#endif
    case FAKE_RUN:
        return run();
    case FAKE_IRQ_LINE: {
        const struct kvm_irq_level *l = arg;

        fake_kvm.irq_level[l->irq % FAKE_IRQS] = l->level;
        return 0;
    }
    default:
        if (request == KVM_CHECK_EXTENSION)
            return fake_kvm.caps;
        return -ENOTTY;
    }
}

int vmm_ioctl_named(int fd, unsigned long request, const char *name, void *arg,
                    GError **error)
{
    int r = __vmm_ioctl(fd, request, arg);

    if (r < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_KVM, "%s: %s", name, g_strerror(-r));
        return -1;
    }
    return r;
}

int kvm_check_cap(int fd, long cap)
{
    int r = __vmm_ioctl(fd, KVM_CHECK_EXTENSION, (void *)cap);

    return r < 0 ? 0 : r;
}
