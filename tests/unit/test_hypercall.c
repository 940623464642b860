/*
 * The x86_64 vmcall split (src/arch/x86_64/hypercall.c): vmm's IDs go to
 * vmm's dispatcher, KVM's hypercall numbers get KVM's own answers, so a
 * guest written for KVM (kvm-unit-tests' hypercall, vmexit_vmcall) sees
 * no difference. Pure: checked on any host.
 */
#include <check.h>
#include <linux/kvm_para.h>

#include "vmm-guest/call-list.h"
#include "hypercall.h"

#include "unit.h"

#define ID_IS_VMM(c, id, ...) ck_assert_msg(x86_hypercall_is_vmm(id), "%#x", (unsigned)(id));

START_TEST(every_vmm_call_is_vmm)
{
    VMM_CALL_LIST(ID_IS_VMM)
    /* Unknown IDs in vmm's range stay vmm's (refused by its policy). */
    ck_assert(x86_hypercall_is_vmm(0xc60010feU));
    ck_assert(x86_hypercall_is_vmm(0x86000000U));
    ck_assert(x86_hypercall_is_vmm(0xc6ffffffU));
}
END_TEST

START_TEST(kvm_numbers_are_kvm)
{
    for (uint64_t nr = 0; nr <= 64; nr++)
        ck_assert(!x86_hypercall_is_vmm(nr));
    ck_assert(!x86_hypercall_is_vmm(0xffffffffU));     /* kvm-unit-tests' hypercall */
    ck_assert(!x86_hypercall_is_vmm(UINT64_MAX));
    ck_assert(!x86_hypercall_is_vmm(0x1c6001000ULL));  /* high bits: not an SMCCC ID */
    ck_assert(!x86_hypercall_is_vmm(0x84000000U));     /* owner 4, standard secure */
    ck_assert(!x86_hypercall_is_vmm(0x87000000U));     /* owner 7 */
    ck_assert(!x86_hypercall_is_vmm(0x06001000U));     /* yielding call */
    ck_assert(!x86_hypercall_is_vmm(0x40000000U));     /* Hyper-V's call bit range */
}
END_TEST

START_TEST(kvm_answers)
{
    const uint64_t enosys = (uint64_t)-KVM_ENOSYS;

    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_VAPIC_POLL_IRQ, 0, true), 0);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_CLOCK_PAIRING, 0, true),
                      (uint64_t)-KVM_EOPNOTSUPP);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0, 0, true), enosys);       /* vmexit_vmcall */
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0xffffffffU, 0, true), enosys);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(UINT64_MAX, 0, true), enosys);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_KICK_CPU, 0, true), enosys);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_SEND_IPI, 0, true), enosys);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_SCHED_YIELD, 0, true), enosys);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_MAP_GPA_RANGE, 0, true), enosys);
    /* Outside ring 0, whatever the number. */
    ck_assert_uint_eq(x86_kvm_hypercall_answer(KVM_HC_VAPIC_POLL_IRQ, 3, true),
                      (uint64_t)-KVM_EPERM);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0, 1, true), (uint64_t)-KVM_EPERM);
}
END_TEST

START_TEST(kvm_answers_outside_64_bit_mode)
{
    /* The number's high half is ignored, the answer is 32 bits. */
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0x100000000ULL | KVM_HC_VAPIC_POLL_IRQ, 0, false),
                      0);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0x100000000ULL | KVM_HC_VAPIC_POLL_IRQ, 0, true),
                      (uint64_t)-KVM_ENOSYS);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0, 0, false), (uint32_t)-KVM_ENOSYS);
    ck_assert_uint_eq(x86_kvm_hypercall_answer(0, 3, false), (uint32_t)-KVM_EPERM);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hypercall");
    TCase *tc = tcase_create("split");

    tcase_add_test(tc, every_vmm_call_is_vmm);
    tcase_add_test(tc, kvm_numbers_are_kvm);
    tcase_add_test(tc, kvm_answers);
    tcase_add_test(tc, kvm_answers_outside_64_bit_mode);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
