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
 * calls behind PV features (KVM_HC_KICK_CPU, KVM_HC_SCHED_YIELD) are
 * -KVM_ENOSYS because vmm hides those features (as KVM answers with
 * KVM_CAP_ENFORCE_PV_FEATURE_CPUID; KVM_HC_SEND_IPI, which vmm carries out
 * as KVM does without it, is x86_kvm_send_ipi()), KVM_HC_MAP_GPA_RANGE
 * because vmm does not ask for its exit, and every other number is
 * -KVM_ENOSYS too.
 */
#define ICR_DEST_LOGICAL (1U << 11)
#define ICR_SHORTHAND    (3U << 18)
#define ICR_MSI_BITS     0xc7ffU     /* vector, delivery mode, level, trigger */

static uint64_t send_cluster(uint64_t bits, uint64_t first, unsigned width, unsigned nr_ids,
                             uint32_t msi_data,
                             bool (*send)(unsigned id, uint32_t msi_data, void *data),
                             void *data)
{
    uint64_t count = 0;

    for (unsigned i = 0; i < width; i++)
        if ((bits >> i & 1) && first < nr_ids && i < nr_ids - first &&
            send(first + i, msi_data, data))
            count++;
    return count;
}

uint64_t x86_kvm_send_ipi(uint64_t lo, uint64_t hi, uint64_t min, uint64_t icr,
                          unsigned nr_ids, bool longmode,
                          bool (*send)(unsigned id, uint32_t msi_data, void *data), void *data)
{
    unsigned width = longmode ? 64 : 32;
    uint32_t first = (uint32_t)min;

    if (!longmode) {
        lo = (uint32_t)lo;
        hi = (uint32_t)hi;
    }
    if (icr & (ICR_DEST_LOGICAL | ICR_SHORTHAND))
        return (uint64_t)(int64_t)-KVM_EINVAL;
    if (first >= nr_ids)
        return 0;
    return send_cluster(lo, first, width, nr_ids, icr & ICR_MSI_BITS, send, data) +
           send_cluster(hi, (uint64_t)first + width, width, nr_ids, icr & ICR_MSI_BITS, send,
                        data);
}

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
