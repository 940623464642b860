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

#endif
