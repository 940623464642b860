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

struct sent {
    unsigned n;
    unsigned ids[256];
    uint32_t msi_data;
    unsigned refuse_id;      /* send() fails for this one (KVM blocked it) */
};

static bool record(unsigned id, uint32_t msi_data, void *data)
{
    struct sent *s = data;

    if (id == s->refuse_id)
        return false;
    ck_assert_uint_lt(s->n, 256);
    s->ids[s->n++] = id;
    s->msi_data = msi_data;
    return true;
}

START_TEST(send_ipi_as_kvm)
{
    struct sent s = { .refuse_id = ~0U };

    /* IDs 1 and 3 of 4 vCPUs, fixed vector 0x40 */
    ck_assert_uint_eq(x86_kvm_send_ipi(0xa, 0, 0, 0x40, 4, true, record, &s), 2);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_uint_eq(s.ids[0], 1);
    ck_assert_uint_eq(s.ids[1], 3);
    ck_assert_uint_eq(s.msi_data, 0x40);
    /* from ID 2: bit 0 is ID 2; bits past the last vCPU are skipped */
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(~0ULL, ~0ULL, 2, 0x4041, 4, true, record, &s), 2);
    ck_assert_uint_eq(s.ids[0], 2);
    ck_assert_uint_eq(s.ids[1], 3);
    ck_assert_uint_eq(s.msi_data, 0x4041);      /* level asserted kept */
    /* the high half is 64 IDs further, 32 outside 64-bit mode */
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(0, 1, 0, 0x30, 100, true, record, &s), 1);
    ck_assert_uint_eq(s.ids[0], 64);
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(0x100000000ULL, 1, 0, 0x30, 100, false, record, &s), 1);
    ck_assert_uint_eq(s.ids[0], 32);
    /* kvm-unit-tests' apic test: a minimum past every ID sends none */
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(0xffffffff, 0, 0xffffffff, 0, 2, true, record, &s), 0);
    ck_assert_uint_eq(s.n, 0);
    /* the minimum is 32 bits, as KVM's */
    ck_assert_uint_eq(x86_kvm_send_ipi(1, 0, 0x100000000ULL, 0x30, 2, true, record, &s), 1);
    ck_assert_uint_eq(s.ids[0], 0);
    /* near UINT32_MAX nothing wraps to a low ID */
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(~0ULL, ~0ULL, 0xfffffff0U, 0x30, 4096, true, record, &s), 0);
    /* one KVM did not take is not counted */
    s.n = 0;
    s.refuse_id = 1;
    ck_assert_uint_eq(x86_kvm_send_ipi(0x3, 0, 0, 0x30, 2, true, record, &s), 1);
    /* logical destination or a shorthand: -KVM_EINVAL, nothing sent */
    s.n = 0;
    ck_assert_uint_eq(x86_kvm_send_ipi(1, 0, 0, 0x830, 2, true, record, &s),
                      (uint64_t)-KVM_EINVAL);
    ck_assert_uint_eq(x86_kvm_send_ipi(1, 0, 0, 0xc0030, 2, true, record, &s),
                      (uint64_t)-KVM_EINVAL);
    ck_assert_uint_eq(s.n, 0);
    /* destination and reserved bits of the ICR stay out of the MSI data */
    s.refuse_id = ~0U;
    ck_assert_uint_eq(x86_kvm_send_ipi(1, 0, 0, 0xffff3030ULL & ~0xc0800ULL, 2, true, record, &s),
                      1);
    ck_assert_uint_eq(s.msi_data, 0x3030 & 0xc7ff);
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
    tcase_add_test(tc, send_ipi_as_kvm);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
