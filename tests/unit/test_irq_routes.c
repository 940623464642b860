/* The VM's interrupt routing table (src/core/irq_routes.c) against a fake
 * KVM that keeps the last table it was given. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "vmm/irq_routes.h"

#include "unit.h"

#define FAKE_MAX 64

static struct {
    unsigned calls;          /* KVM_SET_GSI_ROUTING calls */
    int fail;                /* -errno for the next call, 0: accept */
    unsigned nr;
    struct kvm_irq_routing_entry e[FAKE_MAX];
} kvm;

static int fake_set(int vm_fd, const struct kvm_irq_routing *t)
{
    ck_assert_int_eq(vm_fd, 7);
    kvm.calls++;
    if (kvm.fail) {
        int r = kvm.fail;

        kvm.fail = 0;
        return r;
    }
    ck_assert_uint_le(t->nr, FAKE_MAX);
    kvm.nr = t->nr;
    memcpy(kvm.e, t->entries, t->nr * sizeof(*t->entries));
    return 0;
}

static int irqfd_fd = -1, irqfd_gsi = -1, irqfd_assign = -1;

static int fake_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign)
{
    ck_assert_int_eq(vm_fd, 7);
    irqfd_fd = fd;
    irqfd_gsi = (int)gsi;
    irqfd_assign = assign;
    return 0;
}

/* x86_64's shape in small: GSIs 0-3 on one chip, 0-1 on another too. */
static const struct kvm_irq_routing_entry defaults[] = {
    { .gsi = 0, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 2, 0 } },
    { .gsi = 0, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 0, 0 } },
    { .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 2, 1 } },
    { .gsi = 1, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 0, 1 } },
    { .gsi = 2, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 2, 2 } },
    { .gsi = 3, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 2, 3 } },
};
#define NDEF G_N_ELEMENTS(defaults)

static void setup(struct irq_routes *r, unsigned kvm_max)
{
    memset(&kvm, 0, sizeof(kvm));
    irq_routes_kvm_set = fake_set;
    irq_routes_kvm_irqfd = fake_irqfd;
    irq_routes_init(r);
    ck_assert(irq_routes_start(r, 7, defaults, NDEF, kvm_max, NULL));
}

/* The table KVM holds starts with every default route, unchanged. */
static void assert_defaults_kept(void)
{
    ck_assert_uint_ge(kvm.nr, NDEF);
    ck_assert_mem_eq(kvm.e, defaults, sizeof(defaults));
}

/* The MSI route KVM holds for @gsi, or NULL. */
static const struct kvm_irq_routing_entry *msi_of(uint32_t gsi)
{
    const struct kvm_irq_routing_entry *found = NULL;

    for (unsigned i = NDEF; i < kvm.nr; i++) {
        if (kvm.e[i].gsi != gsi)
            continue;
        ck_assert_ptr_null(found); /* one route per GSI */
        ck_assert_uint_eq(kvm.e[i].type, KVM_IRQ_ROUTING_MSI);
        found = &kvm.e[i];
    }
    return found;
}

START_TEST(routes_allocate_above_the_defaults)
{
    struct irq_routes r;
    const struct kvm_irq_routing_entry *e;
    int a, b;

    setup(&r, FAKE_MAX);
    ck_assert_uint_eq(kvm.calls, 0); /* KVM's table is its own until a route comes */
    a = irq_routes_add_msi(&r, 0xfee00000ULL, 0x41, 0, 0);
    ck_assert_int_eq(a, 4);          /* past the defaults' highest GSI */
    b = irq_routes_add_msi(&r, 0x0000000108020040ULL, 0x2, KVM_MSI_VALID_DEVID, 0x18);
    ck_assert_int_eq(b, 5);
    ck_assert_uint_eq(kvm.calls, 2);
    ck_assert_uint_eq(kvm.nr, NDEF + 2);
    assert_defaults_kept();
    e = msi_of(a);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->u.msi.address_lo, 0xfee00000);
    ck_assert_uint_eq(e->u.msi.address_hi, 0);
    ck_assert_uint_eq(e->u.msi.data, 0x41);
    ck_assert_uint_eq(e->flags, 0);
    e = msi_of(b);
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->u.msi.address_lo, 0x08020040);
    ck_assert_uint_eq(e->u.msi.address_hi, 1);
    ck_assert_uint_eq(e->flags, KVM_MSI_VALID_DEVID);
    ck_assert_uint_eq(e->u.msi.devid, 0x18);
    irq_routes_clear(&r);
}
END_TEST

/* A Hyper-V SynIC route sits beside the MSI ones with its own type; it is
 * not an MSI route to update, and it goes as the others do. */
START_TEST(routes_hv_sint)
{
    struct irq_routes r;
    const struct kvm_irq_routing_entry *e = NULL;
    int a, s;

    setup(&r, FAKE_MAX);
    a = irq_routes_add_msi(&r, 0xfee00000ULL, 1, 0, 0);
    s = irq_routes_add_hv_sint(&r, 1, 15);
    ck_assert_int_eq(s, a + 1);
    ck_assert_uint_eq(kvm.nr, NDEF + 2);
    assert_defaults_kept();
    for (unsigned i = NDEF; i < kvm.nr; i++)
        if (kvm.e[i].gsi == (uint32_t)s)
            e = &kvm.e[i];
    ck_assert_ptr_nonnull(e);
    ck_assert_uint_eq(e->type, KVM_IRQ_ROUTING_HV_SINT);
    ck_assert_uint_eq(e->u.hv_sint.vcpu, 1);
    ck_assert_uint_eq(e->u.hv_sint.sint, 15);
    ck_assert_uint_eq(msi_of(a)->u.msi.data, 1);
    ck_assert_int_eq(irq_routes_update_msi(&r, s, 0xfee00000ULL, 2, 0, 0), -ENOENT);
    ck_assert_int_eq(irq_routes_remove(&r, s), 0);
    ck_assert_uint_eq(kvm.nr, NDEF + 1);
    ck_assert_uint_eq(kvm.e[NDEF].type, KVM_IRQ_ROUTING_MSI);
    /* The freed slot is an MSI route's again, not a SynIC one. */
    ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 3, 0, 0), s);
    ck_assert_uint_eq(msi_of(s)->u.msi.data, 3);
    irq_routes_clear(&r);
}
END_TEST

START_TEST(routes_update_and_remove)
{
    struct irq_routes r;
    int a, b, c;

    setup(&r, FAKE_MAX);
    a = irq_routes_add_msi(&r, 0xfee00000ULL, 1, 0, 0);
    b = irq_routes_add_msi(&r, 0xfee00000ULL, 2, 0, 0);
    ck_assert_int_eq(irq_routes_update_msi(&r, b, 0xfee01000ULL, 3, 0, 0), 0);
    ck_assert_uint_eq(msi_of(b)->u.msi.data, 3);
    ck_assert_uint_eq(msi_of(b)->u.msi.address_lo, 0xfee01000);
    ck_assert_uint_eq(msi_of(a)->u.msi.data, 1); /* the other stays */
    ck_assert_int_eq(irq_routes_remove(&r, a), 0);
    ck_assert_ptr_null(msi_of(a));
    ck_assert_ptr_nonnull(msi_of(b));
    ck_assert_uint_eq(kvm.nr, NDEF + 1);
    assert_defaults_kept();
    /* The freed GSI is taken again; unknown GSIs and default ones are not ours. */
    c = irq_routes_add_msi(&r, 0xfee00000ULL, 4, 0, 0);
    ck_assert_int_eq(c, a);
    ck_assert_int_eq(irq_routes_remove(&r, 1), -ENOENT);
    ck_assert_int_eq(irq_routes_update_msi(&r, 2, 0, 0, 0, 0), -ENOENT);
    ck_assert_int_eq(irq_routes_remove(&r, 1000), -ENOENT);
    ck_assert_int_eq(irq_routes_remove(&r, c), 0);
    ck_assert_int_eq(irq_routes_remove(&r, c), -ENOENT);
    ck_assert_int_eq(irq_routes_remove(&r, b), 0);
    ck_assert_uint_eq(kvm.nr, NDEF); /* back to KVM's own table */
    assert_defaults_kept();
    irq_routes_clear(&r);
}
END_TEST

/* KVM bounds entries and GSIs alike: with 10, 6 defaults (GSIs 0-3) leave
 * room for 4 routes (GSIs 4-7: entries would run out first). */
START_TEST(routes_are_bounded)
{
    struct irq_routes r;
    int gsi;

    setup(&r, 10);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, i, 0, 0), 4 + i);
    ck_assert_uint_eq(kvm.nr, 10);
    ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 9, 0, 0), -ENOSPC);
    ck_assert_uint_eq(kvm.calls, 4); /* a full table sends nothing */
    ck_assert_int_eq(irq_routes_remove(&r, 5), 0);
    gsi = irq_routes_add_msi(&r, 0xfee00000ULL, 9, 0, 0);
    ck_assert_int_eq(gsi, 5);
    irq_routes_clear(&r);

    /* GSIs bound the table when the defaults are few but numbered high. */
    memset(&kvm, 0, sizeof(kvm));
    {
        static const struct kvm_irq_routing_entry high[] = {
            { .gsi = 7, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 0, 7 } },
        };

        irq_routes_init(&r);
        ck_assert(irq_routes_start(&r, 7, high, 1, 10, NULL));
        ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 0, 0, 0), 8);
        ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 0, 0, 0), 9);
        ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 0, 0, 0), -ENOSPC);
        irq_routes_clear(&r);
    }

    /* Defaults that fill KVM's table leave nothing: an error, not routes. */
    {
        GError *err = NULL;

        irq_routes_init(&r);
        ck_assert(!irq_routes_start(&r, 7, defaults, NDEF, NDEF, &err));
        ck_assert_ptr_nonnull(err);
        g_error_free(err);
        ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 0, 0, 0), -ENODEV);
        irq_routes_clear(&r);
    }
}
END_TEST

/* A table KVM refuses leaves the previous one in force, and ours with it. */
START_TEST(routes_survive_a_refusal)
{
    struct irq_routes r;
    int a;

    setup(&r, FAKE_MAX);
    a = irq_routes_add_msi(&r, 0xfee00000ULL, 1, 0, 0);
    kvm.fail = -EINVAL;
    ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 2, 0, 0), -EINVAL);
    kvm.fail = -ENOMEM;
    ck_assert_int_eq(irq_routes_update_msi(&r, a, 0xfee00000ULL, 5, 0, 0), -ENOMEM);
    kvm.fail = -ENOMEM;
    ck_assert_int_eq(irq_routes_remove(&r, a), -ENOMEM);
    /* The next table KVM takes holds exactly the one route, as it was. */
    ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 3, 0, 0), a + 1);
    ck_assert_uint_eq(kvm.nr, NDEF + 2);
    ck_assert_uint_eq(msi_of(a)->u.msi.data, 1);
    ck_assert_uint_eq(msi_of(a + 1)->u.msi.data, 3);
    assert_defaults_kept();
    irq_routes_clear(&r);
}
END_TEST

START_TEST(routes_before_start_and_irqfd)
{
    struct irq_routes r;

    irq_routes_kvm_set = fake_set;
    irq_routes_kvm_irqfd = fake_irqfd;
    memset(&kvm, 0, sizeof(kvm));
    irq_routes_init(&r);
    ck_assert_int_eq(irq_routes_add_msi(&r, 0xfee00000ULL, 0, 0, 0), -ENODEV);
    ck_assert_uint_eq(kvm.calls, 0);
    irq_routes_clear(&r);

    setup(&r, FAKE_MAX);
    ck_assert_int_eq(irq_routes_irqfd(&r, 12, 4, true), 0);
    ck_assert_int_eq(irqfd_fd, 12);
    ck_assert_int_eq(irqfd_gsi, 4);
    ck_assert_int_eq(irqfd_assign, 1);
    ck_assert_int_eq(irq_routes_irqfd(&r, 12, 4, false), 0);
    ck_assert_int_eq(irqfd_assign, 0);
    irq_routes_clear(&r);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("irq_routes");
    TCase *tc = tcase_create("routes");

    tcase_add_test(tc, routes_allocate_above_the_defaults);
    tcase_add_test(tc, routes_update_and_remove);
    tcase_add_test(tc, routes_hv_sint);
    tcase_add_test(tc, routes_are_bounded);
    tcase_add_test(tc, routes_survive_a_refusal);
    tcase_add_test(tc, routes_before_start_and_irqfd);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
