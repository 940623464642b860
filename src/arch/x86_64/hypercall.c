/*
 * The split of the one vmcall number space between vmm and KVM. KVM's Xen
 * intercept hands vmm every vmcall, KVM's own hypercalls included (a guest
 * that believes it runs on KVM makes them), so vmm answers those as KVM
 * would: no guest learns from them that vmm sits behind the instruction.
 * Pure, so that the rule is unit-tested without KVM.
 */
#include <errno.h>
#include <linux/kvm_para.h>

#include "hypercall.h"

bool x86_hypercall_is_vmm(uint64_t rax)
{
    /* SMCCC: bit 31 fast call, bit 30 the 64-bit convention, bits 29:24
     * the owner (6); KVM's numbers are small integers. */
    return rax <= UINT32_MAX && ((rax >> 24) & 0xbf) == 0x86;
}

/*
 * KVM (kvm_emulate_hypercall): -KVM_EPERM outside ring 0; the number is
 * truncated to 32 bits outside 64-bit mode, and so is the result.
 * KVM_HC_VAPIC_POLL_IRQ does nothing and answers 0. KVM_HC_CLOCK_PAIRING
 * answers -KVM_EOPNOTSUPP, as KVM does on a host whose clock is not
 * TSC-based: vmm cannot read the host's clock pair for the guest. The
 * calls behind PV features (KVM_HC_KICK_CPU, KVM_HC_SEND_IPI,
 * KVM_HC_SCHED_YIELD) are -KVM_ENOSYS because vmm hides those features
 * (as KVM answers with KVM_CAP_ENFORCE_PV_FEATURE_CPUID), KVM_HC_MAP_GPA_RANGE
 * because vmm does not ask for its exit, and every other number is
 * -KVM_ENOSYS too.
 */
uint64_t x86_kvm_hypercall_answer(uint64_t rax, unsigned cpl, bool longmode)
{
    uint64_t nr = longmode ? rax : (uint32_t)rax;
    int64_t ret;

    if (cpl != 0)
        ret = -KVM_EPERM;
    else if (nr == KVM_HC_VAPIC_POLL_IRQ)
        ret = 0;
    else if (nr == KVM_HC_CLOCK_PAIRING)
        ret = -KVM_EOPNOTSUPP;
    else
        ret = -KVM_ENOSYS;
    return longmode ? (uint64_t)ret : (uint32_t)ret;
}
