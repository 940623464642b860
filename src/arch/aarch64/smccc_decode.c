/* SMCCC register packing for the hvc/smc conduit (see smccc_decode.h). */
#include "vmm-guest/calls.h"
#include "smccc_decode.h"

#define SMCCC_RET_NOT_SUPPORTED ((uint64_t)(int64_t)VMM_RET_NOT_SUPPORTED)
#define SMCCC_RET_INVALID ((uint64_t)(int64_t)VMM_RET_INVALID)

static bool is_smc32(uint32_t id)
{
    return !(id & SMCCC_SMC64);
}

void smccc_decode(uint64_t nr, uint64_t flags, const uint64_t x1_4[4], struct guest_call *call)
{
    /* KVM hands over w0 alone: the ID is 32 bits by definition. */
    uint32_t id = (uint32_t)nr;

    *call = (struct guest_call){
        .id = id,
        .conduit = (flags & SMCCC_EXIT_SMC) ? CONDUIT_SMC : CONDUIT_HVC,
    };
    for (int i = 0; i < 4; i++)
        call->args[i] = is_smc32(id) ? (uint32_t)x1_4[i] : x1_4[i];
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

void smccc_call(struct vcpu *vcpu, uint64_t nr, uint64_t flags, const uint64_t x1_4[4],
                uint64_t x0_3[4])
{
    struct guest_call call;
    call_status status;
    call_verdict v;

    smccc_decode(nr, flags, x1_4, &call);
    v = call_dispatch(vcpu, &call, &status);
    smccc_encode(&call, v, status, x0_3);
}
