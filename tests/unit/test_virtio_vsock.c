/*
 * virtio-vsock (src/devices/virtio_vsock.c) behind the PCI transport,
 * driven as a Linux driver would, over a fake vhost-vsock (the device's
 * ioctl hook): what it asks of vhost at the VM's build (owner, features,
 * the CID) and the errors it gives there (no module, a CID in use, a
 * vhost without event index); the guest CID in the device configuration;
 * at DRIVER_OK the rings, their eventfds and guest RAM handed to vhost and
 * vhost started; a driver reset and the device's end stopping it first; a
 * driver that enabled only one queue, and a vhost that refuses, ending in
 * DEVICE_NEEDS_RESET with vhost never started; the event queue's buffers
 * kept.
 */
#include <errno.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/pci.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/iobus.h"

#include "unit.h"

#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define RAM_GPA 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define SLOT 4
#define CID 42
#define QSIZE 16
#define RING(q) (RAM_GPA + 0x1000 * (1 + 3 * (q)))  /* desc; avail + 0x1000, used + 0x2000 */
#define FAKE_FD_PATH "/dev/null"

/* --- a fake vhost-vsock: what the device asked of it --------------------------- */

static struct fake_vhost {
    unsigned calls;                       /* every ioctl */
    unsigned long order[64];              /* their requests, in order */
    bool owner;
    uint64_t offer, features, cid;
    int refuse_cid, refuse_mem;           /* -errno for that ioctl; 0: accept */
    struct vhost_memory_region regions[8];
    unsigned nregions;
    struct vhost_vring_state num[3], base[3];
    struct vhost_vring_addr addr[3];
    int kick[3], call[3];
    int running, runs, stops;
} vh;

static int fake_ioctl(int fd, unsigned long request, void *arg)
{
    unsigned n = __atomic_load_n(&vh.calls, __ATOMIC_ACQUIRE);

    if (n < G_N_ELEMENTS(vh.order))
        vh.order[n] = request;
    switch (request) {
    case VHOST_SET_OWNER:
        if (vh.owner)
            return -EBUSY;
        vh.owner = true;
        break;
    case VHOST_GET_FEATURES:
        *(uint64_t *)arg = vh.offer;
        break;
    case VHOST_VSOCK_SET_GUEST_CID:
        if (vh.refuse_cid)
            return vh.refuse_cid;
        vh.cid = *(uint64_t *)arg;
        break;
    case VHOST_SET_FEATURES:
        vh.features = *(uint64_t *)arg;
        break;
    case VHOST_SET_MEM_TABLE: {
        const struct vhost_memory *m = arg;

        if (vh.refuse_mem)
            return vh.refuse_mem;
        ck_assert_uint_le(m->nregions, G_N_ELEMENTS(vh.regions));
        vh.nregions = m->nregions;
        memcpy(vh.regions, m->regions, m->nregions * sizeof(m->regions[0]));
        break;
    }
    case VHOST_SET_VRING_NUM:
    case VHOST_SET_VRING_BASE: {
        const struct vhost_vring_state *s = arg;

        ck_assert_uint_lt(s->index, 2); /* the event queue is never vhost's */
        (request == VHOST_SET_VRING_NUM ? vh.num : vh.base)[s->index] = *s;
        break;
    }
    case VHOST_SET_VRING_ADDR: {
        const struct vhost_vring_addr *a = arg;

        ck_assert_uint_lt(a->index, 2);
        vh.addr[a->index] = *a;
        break;
    }
    case VHOST_SET_VRING_KICK:
    case VHOST_SET_VRING_CALL: {
        const struct vhost_vring_file *f = arg;

        ck_assert_uint_lt(f->index, 2);
        (request == VHOST_SET_VRING_KICK ? vh.kick : vh.call)[f->index] = f->fd;
        break;
    }
    case VHOST_VSOCK_SET_RUNNING:
        vh.running = *(int *)arg;
        break;
    default:
        ck_abort_msg("unexpected vhost ioctl 0x%lx", request);
    }
    __atomic_store_n(&vh.calls, n + 1, __ATOMIC_RELEASE);
    /* Last: a test that sees the count (acquire) sees everything above. */
    if (request == VHOST_VSOCK_SET_RUNNING)
        __atomic_add_fetch(vh.running ? &vh.runs : &vh.stops, 1, __ATOMIC_RELEASE);
    return 0;
}

/* --- the machine: a PCI host and the vsock line over fake RAM ------------------ */

static const struct pci_host_params params = {
    .window_base = WINDOW, .window_size = 0x100000,
};
static const struct device_desc lines[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_ANY, &params },
    VIRTIO_VSOCK_LINE(SLOT, -1),
};

static struct iobus bus;
static struct device_set devs;
static struct guest_mem mem;
static uint8_t *ram;
static uint64_t common, isr, notify, device_cfg;
static bool devices_destroyed;
static const char *real_path;
static int (*real_ioctl)(int fd, unsigned long request, void *arg);

static uint32_t mmio_read(uint64_t addr, unsigned len)
{
    return unit_mmio_read(&bus, addr, len);
}

static void mmio_write(uint64_t addr, uint32_t v, unsigned len)
{
    unit_mmio_write(&bus, addr, v, len);
}

static uint32_t cfg(unsigned off, unsigned len)
{
    return mmio_read(ECAM + (SLOT << 15) + off, len);
}

/* Realizes the machine with @cid; the error message, or NULL. */
static char *build(uint64_t cid)
{
    struct device_ctx ctx = { .iobus = &bus, .mem = &mem, .vsock_cid = cid };
    GError *err = NULL;
    char *msg = NULL;

    iobus_init(&bus);
    if (!devices_realize(&devs, lines, G_N_ELEMENTS(lines), DEVICE_BOOT_ANY | DEVICE_VSOCK,
                         &ctx, -1, NULL, &err)) {
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    return msg;
}

static void discover(void)
{
    uint32_t bar = cfg(PCI_BAR0, 4) & ~0xfU;

    common = isr = notify = device_cfg = 0;
    for (unsigned at = cfg(PCI_CAPABILITY_LIST, 1); at; at = cfg(at + 1, 1)) {
        uint64_t where = bar + cfg(at + VIRTIO_PCI_CAP_OFFSET, 4);

        switch (cfg(at + VIRTIO_PCI_CAP_CFG_TYPE, 1)) {
        case VIRTIO_PCI_CAP_COMMON_CFG: common = where; break;
        case VIRTIO_PCI_CAP_ISR_CFG: isr = where; break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG: notify = where; break;
        case VIRTIO_PCI_CAP_DEVICE_CFG: device_cfg = where; break;
        }
    }
    ck_assert(common && isr && notify && device_cfg);
    mmio_write(ECAM + (SLOT << 15) + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static void setup_fake(void)
{
    real_path = virtio_vsock_dev_path;
    real_ioctl = virtio_vsock_ioctl;
    virtio_vsock_dev_path = FAKE_FD_PATH;
    virtio_vsock_ioctl = fake_ioctl;
    vh = (struct fake_vhost){
        .offer = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                 (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_VSOCK_F_SEQPACKET) |
                 (1ULL << VHOST_F_LOG_ALL),
        .kick = { -1, -1, -1 }, .call = { -1, -1, -1 },
    };
    ram = calloc(1, RAM_SIZE);
    mem = (struct guest_mem){ .nr = 2 };
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    /* A read-only region (firmware flash) is not vhost's to write. */
    mem.regions[1] = (struct mem_region){ .gpa = 0, .size = 0x1000, .hva = ram, .readonly = true };
    mem.ram = &mem.regions[0];
    devices_destroyed = false;
}

static void teardown_fake(void)
{
    if (!devices_destroyed)
        devices_destroy(&devs);
    iobus_destroy(&bus);
    free(ram);
    virtio_vsock_dev_path = real_path;
    virtio_vsock_ioctl = real_ioctl;
}

static void setup(void)
{
    char *msg;

    setup_fake();
    msg = build(CID);
    ck_assert_msg(msg == NULL, "%s", msg);
    discover();
}

/* --- a driver ------------------------------------------------------------------ */

static uint8_t status(void)
{
    return mmio_read(common + VIRTIO_PCI_COMMON_STATUS, 1);
}

static uint64_t device_features(void)
{
    uint64_t f = 0;

    for (unsigned half = 0; half < 2; half++) {
        mmio_write(common + VIRTIO_PCI_COMMON_DFSELECT, half, 4);
        f |= (uint64_t)mmio_read(common + VIRTIO_PCI_COMMON_DF, 4) << (32 * half);
    }
    return f;
}

static bool negotiate(uint64_t features)
{
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS,
               VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    for (unsigned half = 0; half < 2; half++) {
        mmio_write(common + VIRTIO_PCI_COMMON_GFSELECT, half, 4);
        mmio_write(common + VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> (32 * half)), 4);
    }
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
               VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK, 1);
    return status() & VIRTIO_CONFIG_S_FEATURES_OK;
}

static void queue_setup(unsigned q)
{
    uint64_t desc = RING(q), avail = desc + 0x1000, used = desc + 0x2000;

    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_DESCHI, desc >> 32, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_AVAILHI, avail >> 32, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_USEDHI, used >> 32, 4);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

static void driver_ok(void)
{
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
               VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
               VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

#define WAIT_FOR(cond)                                                     \
    do {                                                                   \
        for (int _n = 0; !(cond) && _n < 10000; _n++)                      \
            g_usleep(1000);                                                \
        ck_assert_msg((cond), "timed out waiting for " #cond);             \
    } while (0)

static int runs(void)
{
    return __atomic_load_n(&vh.runs, __ATOMIC_ACQUIRE);
}

static int stops(void)
{
    return __atomic_load_n(&vh.stops, __ATOMIC_ACQUIRE);
}

static void start_all(void)
{
    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX)));
    for (unsigned q = 0; q < 3; q++)
        queue_setup(q);
    driver_ok();
    WAIT_FOR(runs() == 1);
}

/* --- tests --------------------------------------------------------------------- */

START_TEST(build_claims_the_cid)
{
    static const unsigned long want[] = { VHOST_SET_OWNER, VHOST_GET_FEATURES,
                                          VHOST_VSOCK_SET_GUEST_CID };
    uint64_t f = device_features();

    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 2), 0x1af4);
    ck_assert_uint_eq(cfg(PCI_DEVICE_ID, 2), 0x1040 + VIRTIO_ID_VSOCK);
    ck_assert_uint_eq(vh.calls, G_N_ELEMENTS(want));
    for (unsigned i = 0; i < G_N_ELEMENTS(want); i++)
        ck_assert_uint_eq(vh.order[i], want[i]);
    ck_assert_uint_eq(vh.cid, CID);
    /* guest_cid, le64, as the driver reads it (two 32-bit reads). */
    ck_assert_uint_eq(mmio_read(device_cfg, 4), CID);
    ck_assert_uint_eq(mmio_read(device_cfg + 4, 4), 0);
    /* vhost's device feature, the transport's ring ones; never vhost's own. */
    ck_assert(f & (1ULL << VIRTIO_VSOCK_F_SEQPACKET));
    ck_assert(f & (1ULL << VIRTIO_F_VERSION_1));
    ck_assert(!(f & (1ULL << VHOST_F_LOG_ALL)));
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_NUMQ, 2), 3);
}
END_TEST

START_TEST(driver_ok_starts_vhost)
{
    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX) |
                        (1ULL << VIRTIO_VSOCK_F_SEQPACKET)));
    for (unsigned q = 0; q < 3; q++)
        queue_setup(q);
    ck_assert_int_eq(runs(), 0); /* nothing before DRIVER_OK */
    driver_ok();
    WAIT_FOR(runs() == 1);
    ck_assert_int_eq(vh.running, 1);
    ck_assert_uint_eq(vh.order[vh.calls - 1], VHOST_VSOCK_SET_RUNNING);
    ck_assert_uint_eq(vh.features, (1ULL << VIRTIO_F_VERSION_1) |
                      (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << VIRTIO_VSOCK_F_SEQPACKET));
    /* Guest RAM only: the read-only region is left out. */
    ck_assert_uint_eq(vh.nregions, 1);
    ck_assert_uint_eq(vh.regions[0].guest_phys_addr, RAM_GPA);
    ck_assert_uint_eq(vh.regions[0].memory_size, RAM_SIZE);
    ck_assert_uint_eq(vh.regions[0].userspace_addr, (uintptr_t)ram);
    for (unsigned q = 0; q < 2; q++) {
        uintptr_t desc = (uintptr_t)ram + (RING(q) - RAM_GPA);

        ck_assert_uint_eq(vh.num[q].num, QSIZE);
        ck_assert_uint_eq(vh.base[q].num, 0);
        ck_assert_uint_eq(vh.addr[q].desc_user_addr, desc);
        ck_assert_uint_eq(vh.addr[q].avail_user_addr, desc + 0x1000);
        ck_assert_uint_eq(vh.addr[q].used_user_addr, desc + 0x2000);
        ck_assert_int_ge(vh.kick[q], 0);
        ck_assert_int_ge(vh.call[q], 0);
        ck_assert_int_ne(vh.kick[q], vh.call[q]);
    }
    ck_assert_int_ne(vh.kick[0], vh.kick[1]);
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

START_TEST(reset_stops_vhost_first)
{
    start_all();
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    WAIT_FOR(status() == 0);
    ck_assert_int_eq(stops(), 1);
    ck_assert_int_eq(vh.running, 0);
    /* And it starts again after the driver's next set-up. */
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    for (unsigned q = 0; q < 3; q++)
        queue_setup(q);
    driver_ok();
    WAIT_FOR(runs() == 2);
    ck_assert_int_eq(vh.running, 1);
}
END_TEST

START_TEST(device_end_stops_vhost)
{
    start_all();
    devices_destroy(&devs);
    devices_destroyed = true;
    ck_assert_int_eq(stops(), 1);
    ck_assert_int_eq(vh.running, 0);
}
END_TEST

START_TEST(one_queue_is_refused)
{
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(0);
    queue_setup(2);
    driver_ok();
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_int_eq(runs(), 0);
    ck_assert_uint_eq(mmio_read(isr, 1), VIRTIO_PCI_ISR_CONFIG);
    /* Nothing to stop at the reset. */
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_uint_eq(status(), 0);
    ck_assert_int_eq(stops(), 0);
}
END_TEST

START_TEST(vhost_refusal_needs_reset)
{
    vh.refuse_mem = -ENOMEM;
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    for (unsigned q = 0; q < 3; q++)
        queue_setup(q);
    driver_ok();
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_int_eq(runs(), 0);
}
END_TEST

START_TEST(event_buffers_are_kept)
{
    struct vring_desc *d = (void *)(ram + (RING(2) - RAM_GPA));
    struct vring_avail *a = (void *)(ram + (RING(2) + 0x1000 - RAM_GPA));
    struct vring_used *u = (void *)(ram + (RING(2) + 0x2000 - RAM_GPA));

    /* No event index: the worker's pass over the queue shows in the used
     * ring's flags (it turns the driver's kicks off and leaves them off). */
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    for (unsigned q = 0; q < 3; q++)
        queue_setup(q);
    driver_ok();
    WAIT_FOR(runs() == 1);
    ck_assert_uint_eq(u->flags & VRING_USED_F_NO_NOTIFY, 0);
    d[0] = (struct vring_desc){ .addr = RAM_GPA + 0x80000, .len = 8,
                                .flags = VRING_DESC_F_WRITE };
    a->ring[0] = 0;
    __atomic_store_n(&a->idx, 1, __ATOMIC_RELEASE);
    mmio_write(notify + 2 * 4, 2, 2);
    WAIT_FOR(__atomic_load_n(&u->flags, __ATOMIC_ACQUIRE) & VRING_USED_F_NO_NOTIFY);
    ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 0);
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
}
END_TEST

/* --- the build's errors -------------------------------------------------------- */

static void expect_build_error(uint64_t cid, const char *expected)
{
    g_autofree char *msg = build(cid);

    ck_assert_msg(msg != NULL, "built with CID %" G_GUINT64_FORMAT, cid);
    ck_assert_msg(strstr(msg, expected), "\"%s\" lacks \"%s\"", msg, expected);
}

START_TEST(cid_in_use)
{
    vh.refuse_cid = -EADDRINUSE;
    expect_build_error(CID, "VHOST_VSOCK_SET_GUEST_CID: CID 42 is in use");
}
END_TEST

START_TEST(cid_refused)
{
    vh.refuse_cid = -EINVAL;
    expect_build_error(CID, "VHOST_VSOCK_SET_GUEST_CID 42: Invalid argument");
}
END_TEST

START_TEST(no_module)
{
    virtio_vsock_dev_path = "/nonexistent/vhost-vsock";
    expect_build_error(CID, "/nonexistent/vhost-vsock: No such file or directory (load "
                       "vhost_vsock");
}
END_TEST

START_TEST(old_vhost)
{
    vh.offer &= ~(1ULL << VIRTIO_RING_F_EVENT_IDX);
    expect_build_error(CID, "VHOST_GET_FEATURES: the kernel's vhost-vsock lacks features");
}
END_TEST

START_TEST(reserved_cid)
{
    expect_build_error(2, "CID 2 is reserved");
    ck_assert_uint_eq(vh.calls, 0); /* vhost never asked */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtio-vsock");
    TCase *tc = tcase_create("device");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown_fake);
    tcase_add_test(tc, build_claims_the_cid);
    tcase_add_test(tc, driver_ok_starts_vhost);
    tcase_add_test(tc, reset_stops_vhost_first);
    tcase_add_test(tc, device_end_stops_vhost);
    tcase_add_test(tc, one_queue_is_refused);
    tcase_add_test(tc, vhost_refusal_needs_reset);
    tcase_add_test(tc, event_buffers_are_kept);
    suite_add_tcase(s, tc);
    tc = tcase_create("build errors");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_fake, teardown_fake);
    tcase_add_test(tc, cid_in_use);
    tcase_add_test(tc, cid_refused);
    tcase_add_test(tc, no_module);
    tcase_add_test(tc, old_vhost);
    tcase_add_test(tc, reserved_cid);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
