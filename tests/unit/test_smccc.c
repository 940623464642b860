/*
 * The SMCCC side of the hvc/smc conduit (src/arch/aarch64/smccc_decode.c),
 * pure and so tested on any host: SMC32 calls see only w1-w4 and answer
 * in w0-w3, refusals fill all of x0 as KVM's own do, and the conduit
 * follows KVM's SMC flag.
 */
#include <check.h>

#include "vmm-guest/calls.h"
#include "../../src/arch/aarch64/smccc_decode.h"

#include "unit.h"

#define HIGH 0xabcd000000000000ULL

START_TEST(smc32_arguments_are_w_registers)
{
    const uint64_t x[4] = { HIGH | 1, HIGH | 2, HIGH | 3, HIGH | 4 };
    struct guest_call call;

    smccc_decode(VMM_CALL_VENDOR_HYP_UID, 0, x, &call);
    ck_assert_uint_eq(call.id, VMM_CALL_VENDOR_HYP_UID);
    ck_assert_int_eq(call.conduit, CONDUIT_HVC);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(call.args[i], (uint64_t)i + 1);
    smccc_decode(VMM_CALL_FEATURES, SMCCC_EXIT_SMC, x, &call);
    ck_assert_int_eq(call.conduit, CONDUIT_SMC);
    for (int i = 0; i < 4; i++)
        ck_assert_uint_eq(call.args[i], x[i]);
}
END_TEST

START_TEST(id_is_w0)
{
    const uint64_t x[4] = { 0 };
    struct guest_call call;

    smccc_decode(0xffffffff00000000ULL | VMM_CALL_VERSION, 0, x, &call);
    ck_assert_uint_eq(call.id, VMM_CALL_VERSION);
}
END_TEST

START_TEST(results)
{
    struct guest_call call = { .id = VMM_CALL_VENDOR_HYP_REVISION,
                               .ret = { HIGH | 1, HIGH | 2, 0, 0 } };
    uint64_t x[4];

    smccc_encode(&call, CALL_ALLOWED, CALL_OK, x);
    ck_assert_uint_eq(x[0], 1);
    ck_assert_uint_eq(x[1], 2);
    call.id = VMM_CALL_WHOAMI;
    smccc_encode(&call, CALL_ALLOWED, CALL_OK, x);
    ck_assert_uint_eq(x[0], HIGH | 1);
    smccc_encode(&call, CALL_ALLOWED, CALL_INVALID, x);
    ck_assert_uint_eq(x[0], (uint64_t)(int64_t)VMM_RET_INVALID);
    smccc_encode(&call, CALL_ALLOWED, CALL_NOT_SUPPORTED, x);
    ck_assert_uint_eq(x[0], (uint64_t)(int64_t)VMM_RET_NOT_SUPPORTED);
    call.id = VMM_CALL_VENDOR_HYP_UID;
    smccc_encode(&call, CALL_REFUSED_FLAGS, CALL_OK, x);
    ck_assert_uint_eq(x[0], UINT64_MAX); /* not just w0 */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smccc");
    TCase *tc = tcase_create("smccc");

    tcase_add_test(tc, smc32_arguments_are_w_registers);
    tcase_add_test(tc, id_is_w0);
    tcase_add_test(tc, results);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
