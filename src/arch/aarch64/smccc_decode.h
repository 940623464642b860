/*
 * The SMC Calling Convention's side of vmm's hvc/smc conduit, without KVM:
 * what the registers of a forwarded call mean, and what goes back in them.
 * Pure (no ioctls, no arm64 headers), so it builds on any host: the unit
 * tests and fuzz/calls_fuzz.c run it on x86_64 too. smccc.c moves the
 * registers in and out of the vCPU.
 */
#ifndef VMM_SMCCC_DECODE_H
#define VMM_SMCCC_DECODE_H

#include <stdint.h>

#include "vmm/calls.h"

/* Function ID fields (SMCCC 1.4, 2.5). */
#define SMCCC_FAST_CALL   (1U << 31)
#define SMCCC_SMC64       (1U << 30)
#define SMCCC_OWNER(id)   (((id) >> 24) & 0x3f)

/* KVM_HYPERCALL_EXIT_SMC, bit 0 of kvm_run's hypercall.flags (Linux 6.4+
 * uapi, newer than some toolchains' headers): the guest used smc. */
#define SMCCC_EXIT_SMC    (1U << 0)

/* A call from KVM's hypercall exit: @nr the function ID (w0), @flags the
 * exit's flags, @x1_4 the argument registers x1-x4. SMC32 calls take
 * their arguments in w1-w4: the upper halves are ignored. */
void smccc_decode(uint64_t nr, uint64_t flags, const uint64_t x1_4[4], struct guest_call *call);

/* The results for x0-x3: a refusal is NOT_SUPPORTED (-1), a handler's
 * CALL_INVALID is INVALID (-3), both in all of x0 as KVM writes its own;
 * otherwise the handler's results, w0-w3 only for an SMC32 call. */
void smccc_encode(const struct guest_call *call, call_verdict v, call_status status,
                  uint64_t x0_3[4]);

/* Decode, dispatch through the VM's policy (call_dispatch), encode. */
void smccc_call(struct vcpu *vcpu, uint64_t nr, uint64_t flags, const uint64_t x1_4[4],
                uint64_t x0_3[4]);

#endif
