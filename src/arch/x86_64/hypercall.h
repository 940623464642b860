/* Which vmcalls are vmm's, and what KVM would answer the others. */
#ifndef VMM_X86_HYPERCALL_H
#define VMM_X86_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

/* rax names one of vmm's calls (docs/abi.md "Conduits"): a 32-bit SMCCC
 * ID owned by the vendor-specific hypervisor service, 0x86xxxxxx or
 * 0xc6xxxxxx. Every other rax is a KVM hypercall number. */
bool x86_hypercall_is_vmm(uint64_t rax);

/* What KVM itself answers hypercall @rax from a guest at @cpl, in 64-bit
 * mode or not, with none of KVM's PV hypercall features in its CPUID. */
uint64_t x86_kvm_hypercall_answer(uint64_t rax, unsigned cpl, bool longmode);

/* KVM_HC_SEND_IPI, as KVM carries it out: the APIC IDs among
 * 0..@nr_ids-1 that the guest's bitmap names, bit i of @lo (and of @hi, one
 * cluster further) being ID @min + i (@min is 32 bits); clusters are 64
 * bits in 64-bit mode, 32 outside it. @send(id, msi_data, data) for each,
 * with @icr's vector, delivery mode, level and trigger mode where an MSI's
 * data has them; the answer is how many @send took (IDs without a vCPU
 * are skipped, a minimum past the last ID sends none), or -KVM_EINVAL for
 * an ICR with a logical destination or a shorthand. */
uint64_t x86_kvm_send_ipi(uint64_t lo, uint64_t hi, uint64_t min, uint64_t icr,
                          unsigned nr_ids, bool longmode,
                          bool (*send)(unsigned id, uint32_t msi_data, void *data), void *data);

#endif
