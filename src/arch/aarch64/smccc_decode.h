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
 * exit's flags. The arguments are left for smccc_arg(): read on demand. */
void smccc_decode(uint64_t nr, uint64_t flags, struct guest_call *call);

/* Argument register @x of @call as its handler sees it: SMC32 calls take
 * their arguments in w1-w4, the upper halves ignored. */
uint64_t smccc_arg(const struct guest_call *call, uint64_t x);

/* The results for x0-x3: a refusal is NOT_SUPPORTED (-1), a handler's
 * CALL_INVALID is INVALID (-3), both in all of x0 as KVM writes its own;
 * otherwise the handler's results, w0-w3 only for an SMC32 call. */
void smccc_encode(const struct guest_call *call, call_verdict v, call_status status,
                  uint64_t x0_3[4]);

/*
 * The vCPU's general registers x0-x3 (results) and x1-x4 (arguments), as
 * the conduit reaches them: smccc.c one KVM_{GET,SET}_ONE_REG each, a
 * test or the fuzzer an array. get and set return false when they could
 * not (having stopped the VM).
 */
struct smccc_regs {
    bool (*get)(struct smccc_regs *regs, unsigned n, uint64_t *value);
    bool (*set)(struct smccc_regs *regs, unsigned n, uint64_t value);
};

/*
 * Decode, dispatch through the VM's policy (call_dispatch), encode,
 * touching only the registers the call needs, since each costs an ioctl:
 * x0 is KVM's @nr already; the arguments an allowed call's handler takes
 * (its nargs; four for a monitor) and nothing for a refusal; an answered
 * call's results alone (SMCCC leaves the other result registers to the
 * implementation: the guest keeps its own), all of x0-x3 for a refusal or
 * an invalid call.
 */
void smccc_call(struct vcpu *vcpu, uint64_t nr, uint64_t flags, struct smccc_regs *regs);

#endif
