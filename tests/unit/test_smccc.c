/*
 * The SMCCC side of the hvc/smc conduit (src/arch/aarch64/smccc_decode.c),
 * pure and so tested on any host: SMC32 calls see only w1-w4 and answer
 * in w0-w3, refusals fill all of x0 as KVM's own do, the conduit follows
 * KVM's SMC flag, and a call touches only the registers it uses (each is
 * an ioctl on aarch64).
 */
#include <check.h>

#include "vmm/vm.h"
#include "vmm-guest/calls.h"
#include "../../src/arch/aarch64/smccc_decode.h"

#include "unit.h"

#define HIGH 0xabcd000000000000ULL

START_TEST(smc32_arguments_are_w_registers)
{
    struct guest_call call;

    smccc_decode(VMM_CALL_VENDOR_HYP_UID, 0, &call);
    ck_assert_uint_eq(call.id, VMM_CALL_VENDOR_HYP_UID);
    ck_assert_int_eq(call.conduit, CONDUIT_HVC);
    for (uint64_t i = 1; i <= 4; i++)
        ck_assert_uint_eq(smccc_arg(&call, HIGH | i), i);
    smccc_decode(VMM_CALL_FEATURES, SMCCC_EXIT_SMC, &call);
    ck_assert_int_eq(call.conduit, CONDUIT_SMC);
    for (uint64_t i = 1; i <= 4; i++)
        ck_assert_uint_eq(smccc_arg(&call, HIGH | i), HIGH | i);
}
END_TEST

START_TEST(id_is_w0)
{
    struct guest_call call;

    smccc_decode(0xffffffff00000000ULL | VMM_CALL_VERSION, 0, &call);
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

/* x0-x4 of a vCPU, counting each access as the ioctl it is on aarch64. */
struct fake_regs {
    struct smccc_regs ops;
    uint64_t x[5];
    unsigned reads[5], writes[5];
    bool fail;
};

static bool fake_get(struct smccc_regs *regs, unsigned n, uint64_t *value)
{
    struct fake_regs *f = (struct fake_regs *)regs;

    ck_assert_uint_ge(n, 1); /* x0 is KVM's exit field already */
    ck_assert_uint_le(n, 4);
    f->reads[n]++;
    *value = f->x[n];
    return !f->fail;
}

static bool fake_set(struct smccc_regs *regs, unsigned n, uint64_t value)
{
    struct fake_regs *f = (struct fake_regs *)regs;

    ck_assert_uint_le(n, 3);
    f->writes[n]++;
    f->x[n] = value;
    return true;
}

/* One call with x1-x4 = HIGH|1..HIGH|4 (or @a1 in x1): the registers read
 * and written, as bit masks of their numbers. */
static void one_call(struct vcpu *vcpu, uint32_t id, uint64_t a1, struct fake_regs *f)
{
    *f = (struct fake_regs){ .ops = { fake_get, fake_set }, .fail = f->fail };
    f->x[0] = id;
    for (int i = 1; i <= 4; i++)
        f->x[i] = HIGH | (uint64_t)i;
    if (a1)
        f->x[1] = a1;
    smccc_call(vcpu, id, 0, &f->ops);
}

static unsigned mask(const unsigned count[5])
{
    unsigned m = 0;

    for (int i = 0; i < 5; i++) {
        ck_assert_uint_le(count[i], 1); /* never one register twice */
        m |= count[i] ? 1U << i : 0;
    }
    return m;
}

START_TEST(calls_touch_only_their_registers)
{
    struct vm vm = { .name = "t", .calls = vm_calls_new() };
    struct vcpu vcpu = { .vm = &vm, .id = 1 };
    struct fake_regs f = { 0 };

    vm.calls->policy.flags = GUEST_FLAG(GUEST_FLAG_INFO);
    policy_update(&vm.calls->policy);

    /* version: no argument, one result; x1-x3 stay the guest's. */
    one_call(&vcpu, VMM_CALL_VERSION, 0, &f);
    ck_assert_uint_eq(mask(f.reads), 0);
    ck_assert_uint_eq(mask(f.writes), 1U << 0);
    ck_assert_uint_eq(f.x[0], (VMM_ABI_MAJOR << 16) | VMM_ABI_MINOR);
    ck_assert_uint_eq(f.x[1], HIGH | 1);

    /* features: its one argument (x1), one result */
    one_call(&vcpu, VMM_CALL_FEATURES, VMM_CALL_VERSION, &f);
    ck_assert_uint_eq(mask(f.reads), 1U << 1);
    ck_assert_uint_eq(mask(f.writes), 1U << 0);
    ck_assert_uint_eq(f.x[0], 0);

    /* whoami: no argument, four results */
    one_call(&vcpu, VMM_CALL_WHOAMI, 0, &f);
    ck_assert_uint_eq(mask(f.reads), 0);
    ck_assert_uint_eq(mask(f.writes), 0xf);
    ck_assert_uint_eq(f.x[0], 1);
    ck_assert_uint_eq(f.x[3], 't');

    /* refused (no console flag) and unknown: nothing read, all of x0-x3
     * written as before: NOT_SUPPORTED and zeros */
    one_call(&vcpu, VMM_CALL_CONSOLE_WRITE, 0, &f);
    ck_assert_uint_eq(mask(f.reads), 0);
    ck_assert_uint_eq(mask(f.writes), 0xf);
    ck_assert_uint_eq(f.x[0], UINT64_MAX);
    for (int i = 1; i < 4; i++)
        ck_assert_uint_eq(f.x[i], 0);
    one_call(&vcpu, VMM_CALL_LAST, 0, &f);
    ck_assert_uint_eq(mask(f.reads), 0);
    ck_assert_uint_eq(mask(f.writes), 0xf);
    ck_assert_uint_eq(f.x[0], UINT64_MAX);

    /* an argument that cannot be read: no handler, nothing written */
    f.fail = true;
    one_call(&vcpu, VMM_CALL_FEATURES, VMM_CALL_VERSION, &f);
    ck_assert_uint_eq(mask(f.reads), 1U << 1);
    ck_assert_uint_eq(mask(f.writes), 0);
    vm_calls_free(vm.calls);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("smccc");
    TCase *tc = tcase_create("smccc");

    tcase_add_test(tc, smc32_arguments_are_w_registers);
    tcase_add_test(tc, id_is_w0);
    tcase_add_test(tc, results);
    tcase_add_test(tc, calls_touch_only_their_registers);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
