/* SMCCC register packing for the hvc/smc conduit (see smccc_decode.h). */
#include "vmm-guest/calls.h"
#include "smccc_decode.h"

#define SMCCC_RET_NOT_SUPPORTED ((uint64_t)(int64_t)VMM_RET_NOT_SUPPORTED)
#define SMCCC_RET_INVALID ((uint64_t)(int64_t)VMM_RET_INVALID)

static bool is_smc32(uint32_t id)
{
    return !(id & SMCCC_SMC64);
}

void smccc_decode(uint64_t nr, uint64_t flags, struct guest_call *call)
{
    /* KVM hands over w0 alone: the ID is 32 bits by definition. */
    *call = (struct guest_call){
        .id = (uint32_t)nr,
        .conduit = (flags & SMCCC_EXIT_SMC) ? CONDUIT_SMC : CONDUIT_HVC,
    };
}

uint64_t smccc_arg(const struct guest_call *call, uint64_t x)
{
    return is_smc32(call->id) ? (uint32_t)x : x;
}

void smccc_encode(const struct guest_call *call, call_verdict v, call_status status,
                  uint64_t x0_3[4])
{
    for (int i = 0; i < 4; i++)
        x0_3[i] = is_smc32(call->id) ? (uint32_t)call->ret[i] : call->ret[i];
    if (v != CALL_ALLOWED || status == CALL_NOT_SUPPORTED)
        x0_3[0] = SMCCC_RET_NOT_SUPPORTED;
    else if (status == CALL_INVALID)
        x0_3[0] = SMCCC_RET_INVALID;
}

/* A call being answered: call first, so that read_args can find the rest. */
struct smccc_exit {
    struct guest_call call;
    struct smccc_regs *regs;
    bool failed;
};

/* guest_call's read_args: x1.. as the handler needs them. */
static bool read_args(struct guest_call *call, unsigned n)
{
    struct smccc_exit *e = (struct smccc_exit *)call;

    for (unsigned i = call->nr_args_read; i < n; i++) {
        uint64_t x;

        if (!e->regs->get(e->regs, i + 1, &x)) {
            e->failed = true;
            return false;
        }
        call->args[i] = smccc_arg(call, x);
    }
    return true;
}

void smccc_call(struct vcpu *vcpu, uint64_t nr, uint64_t flags, struct smccc_regs *regs)
{
    struct smccc_exit e = { .regs = regs };
    call_status status;
    call_verdict v;
    uint64_t x[4];
    unsigned n;

    smccc_decode(nr, flags, &e.call);
    e.call.read_args = read_args;
    v = call_dispatch(vcpu, &e.call, &status);
    if (e.failed)
        return;
    smccc_encode(&e.call, v, status, x);
    n = v == CALL_ALLOWED && status == CALL_OK ? e.call.nr_results : 4;
    for (unsigned i = 0; i < n; i++)
        if (!regs->set(regs, i, x[i]))
            return;
}
