/*
 * The virtio PCI transport (src/devices/virtio_pci.c) driven as a Linux
 * driver would, through the PCI host's ECAM and the BAR, with the
 * virtio-console model behind it (and virtio-rng in the next slot):
 * discovery through the capabilities, feature negotiation, queue set-up,
 * a transmitted buffer reaching the console on the worker thread, kicks
 * as event index allows them, kicks through KVM's ioeventfds (a fake KVM)
 * following the BAR; and a hostile driver's queue set-up and chains
 * ending in DEVICE_NEEDS_RESET, with nothing else disturbed. A fake model
 * whose queue 0 a (fake) backend serves checks the offload hook: start at
 * DRIVER_OK, kicks to the backend, its calls as interrupts, a reset that
 * waits for the backend's stop, a failed start. With MSI (a fake
 * KVM_SIGNAL_MSI), MSI-X: the capability, a hostile driver's table and
 * vector writes, messages per vector, pending bits while masked.
 */
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/console.h"
#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_rng.h"
#include "vmm/iobus.h"

#include "unit.h"

#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define RAM_GPA 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define SLOT 1
#define RNG_SLOT 2
#define BLK_SLOT 3
#define OFFLOAD_SLOT 5
#define IMAGE_SIZE 8192
#define TXQ 1
#define QSIZE 8
#define DESC (RAM_GPA + 0x1000)
#define AVAIL (RAM_GPA + 0x2000)
#define USED (RAM_GPA + 0x3000)
#define BUF (RAM_GPA + 0x10000)

/* A backend for queue 0 of a test model (queue 1 stays with the worker):
 * what the transport handed it and when. Written on the device's worker,
 * read by the test through WAIT_FOR (atomics). */
static struct fake_backend {
    unsigned starts, stops, n, index;
    uint16_t size;
    uint64_t desc, features;
    int kick_fd, call_fd;
    uint8_t status_at_stop;
    bool fail;
} backend;

static bool backend_start(struct virtio_pci *vp, uint64_t features,
                          const struct virtio_pci_offload_queue *q, unsigned n, GError **error)
{
    if (backend.fail) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "the fake backend refuses");
        return false;
    }
    backend.n = n;
    backend.features = features;
    if (n) {
        backend.index = q[0].index;
        backend.size = q[0].size;
        backend.desc = q[0].desc;
        backend.kick_fd = q[0].kick_fd;
        backend.call_fd = q[0].call_fd;
    }
    __atomic_add_fetch(&backend.starts, 1, __ATOMIC_RELEASE);
    return true;
}

static void backend_stop(struct virtio_pci *vp)
{
    backend.status_at_stop = vp->status;
    __atomic_add_fetch(&backend.stops, 1, __ATOMIC_RELEASE);
}

static const struct virtio_pci_offload backend_offload = {
    .queues = 1U << 0, .start = backend_start, .stop = backend_stop,
};

static bool offload_queue_notified(struct virtio_pci *vp, unsigned q)
{
    return true;
}

static const struct virtio_pci_model offload_model = {
    .name = "offload-test", .device_id = 0x3f, .class_code = 0xff0000, .nr_queues = 2,
    .queue_notified = offload_queue_notified, .offload = &backend_offload,
};

static bool offload_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    return virtio_pci_device_realize(dev, ctx, &offload_model, error);
}

static const struct device_ops offload_device = {
    .name = "offload-test", .realize = offload_realize, .destroy = virtio_pci_device_destroy,
};

static const struct pci_host_params params = {
    .window_base = WINDOW, .window_size = 0x100000,
};
static const struct device_desc lines[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_ANY, &params },
    { &virtio_console_device, SLOT, 0, -1, DEVICE_BOOT_ANY },
    { &virtio_rng_device, RNG_SLOT, 0, -1, DEVICE_BOOT_ANY },
    VIRTIO_BLK_LINE(BLK_SLOT, -1, 0),
    VIRTIO_BLK_LINE(BLK_SLOT + 1, -1, 1),   /* no disk 1: stays empty */
    { &offload_device, OFFLOAD_SLOT, 0, -1, DEVICE_BOOT_ANY },
};
static char image_path[64];
static struct device_disk disk = { .path = image_path, .serial = "unit" };

static struct iobus bus;
static struct device_set devs;
static struct guest_mem mem;
static uint8_t *ram;
static struct console *con;
static char console_path[64];
static unsigned slot = SLOT;       /* the function the driver talks to */
static uint64_t common, isr, notify;
static unsigned msix_cap;          /* the MSI-X capability's offset, 0: none */
static uint8_t isr_seen;
static bool devices_destroyed;     /* by the test itself */

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
    return mmio_read(ECAM + (slot << 15) + off, len);
}

/* Finds each virtio capability as the driver does: the list from 0x34. */
static void discover(void)
{
    uint32_t bar = cfg(PCI_BAR0, 4) & ~0xfU;

    common = isr = notify = 0;
    msix_cap = 0;
    for (unsigned at = cfg(PCI_CAPABILITY_LIST, 1); at; at = cfg(at + 1, 1)) {
        uint64_t where = bar + cfg(at + VIRTIO_PCI_CAP_OFFSET, 4);

        if (cfg(at, 1) == 0x11) {
            msix_cap = at;
            continue;
        }
        ck_assert_uint_eq(cfg(at, 1), 0x09);
        ck_assert_uint_eq(cfg(at + VIRTIO_PCI_CAP_BAR, 1), 0);
        switch (cfg(at + VIRTIO_PCI_CAP_CFG_TYPE, 1)) {
        case VIRTIO_PCI_CAP_COMMON_CFG: common = where; break;
        case VIRTIO_PCI_CAP_ISR_CFG: isr = where; break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            notify = where;
            ck_assert_uint_eq(cfg(at + 16, 4), 4); /* notify_off_multiplier */
            break;
        }
    }
    ck_assert(common && isr && notify);
    mmio_write(ECAM + (slot << 15) + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

/* KVM's ioeventfds as the transport registers them (fixture setup_kvm):
 * a notify write at a registered address signals its eventfd instead of
 * exiting, as KVM does; fake_refuse makes every new registration fail. */
#define FAKE_VM_FD 1000
static struct fake_ioeventfd {
    int fd;
    uint64_t gpa;
} fake_ioeventfds[VIRTIO_PCI_MAX_QUEUES];
static unsigned fake_nr, fake_kicks;
static int fake_refuse, setup_vm_fd = -1;
static bool setup_msi;
static struct irq_routes *setup_routes; /* the VM's routing table, NULL: none */

static int fake_ioeventfd(int vm_fd, int fd, uint64_t gpa, bool assign)
{
    ck_assert_int_eq(vm_fd, FAKE_VM_FD);
    if (fake_refuse && assign)
        return -fake_refuse;
    for (unsigned i = 0; i < fake_nr; i++) {
        if (fake_ioeventfds[i].gpa != gpa)
            continue;
        if (assign)
            return -EEXIST;
        ck_assert_int_eq(fake_ioeventfds[i].fd, fd);
        fake_ioeventfds[i] = fake_ioeventfds[--fake_nr];
        return 0;
    }
    if (!assign)
        return -ENOENT;
    ck_assert_uint_lt(fake_nr, G_N_ELEMENTS(fake_ioeventfds));
    fake_ioeventfds[fake_nr++] = (struct fake_ioeventfd){ .fd = fd, .gpa = gpa };
    return 0;
}

static int fake_fd_at(uint64_t gpa)
{
    for (unsigned i = 0; i < fake_nr; i++)
        if (fake_ioeventfds[i].gpa == gpa)
            return fake_ioeventfds[i].fd;
    return -1;
}

/* KVM_SIGNAL_MSI as the transport calls it (fixture setup_msix), from a
 * vCPU (here the test) or the device's worker: the messages in order. */
#define FAKE_MSI_FLAGS 0x5a
#define FAKE_MSI_MAX 16
static struct fake_msi {
    uint64_t addr;
    uint32_t data, devid;
} fake_msis[FAKE_MSI_MAX];
static unsigned fake_nr_msis; /* atomic: published after its entry */
static int fake_msi_result;

static int fake_signal_msi(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags,
                           uint32_t devid)
{
    unsigned n = __atomic_load_n(&fake_nr_msis, __ATOMIC_RELAXED);
    int result = __atomic_load_n(&fake_msi_result, __ATOMIC_RELAXED);

    ck_assert_int_eq(vm_fd, FAKE_VM_FD);
    ck_assert_uint_eq(flags, FAKE_MSI_FLAGS);
    if (result <= 0)
        return result;
    ck_assert_uint_lt(n, FAKE_MSI_MAX);
    fake_msis[n] = (struct fake_msi){ .addr = addr, .data = data, .devid = devid };
    __atomic_store_n(&fake_nr_msis, n + 1, __ATOMIC_RELEASE);
    return result;
}

static unsigned msis(void)
{
    return __atomic_load_n(&fake_nr_msis, __ATOMIC_ACQUIRE);
}

/* The driver's notify write for queue @q (Linux writes the index, 2 bytes). */
static void kick(unsigned q)
{
    int fd = fake_fd_at(notify + q * 4);

    if (fd >= 0) {
        ck_assert_int_eq(eventfd_write(fd, 1), 0);
        fake_kicks++;
    } else {
        mmio_write(notify + q * 4, q, 2);
    }
}

static void setup(void)
{
    struct device_ctx ctx = { .iobus = &bus, .mem = &mem, .disks = &disk, .nr_disks = 1 };
    int fd;

    g_strlcpy(image_path, "/tmp/vmm-test-blk-XXXXXX", sizeof(image_path));
    fd = mkstemp(image_path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, IMAGE_SIZE), 0);
    close(fd);

    g_strlcpy(console_path, "/tmp/vmm-test-virtio-XXXXXX", sizeof(console_path));
    fd = mkstemp(console_path);

    ck_assert_int_ge(fd, 0);
    close(fd);
    unlink(console_path);
    con = console_open(console_path, NULL);
    ck_assert_ptr_nonnull(con);
    ctx.console = con;
    ram = calloc(1, RAM_SIZE);
    mem = (struct guest_mem){ .nr = 1 };
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    mem.ram = &mem.regions[0];
    isr_seen = 0;
    slot = SLOT;
    fake_nr = fake_kicks = 0;
    fake_refuse = 0;
    backend = (struct fake_backend){ .kick_fd = -1, .call_fd = -1 };
    iobus_init(&bus);
    ctx.msi = setup_msi;
    ctx.routes = setup_routes;
    ctx.msi_flags = FAKE_MSI_FLAGS;
    ck_assert(devices_realize(&devs, lines, G_N_ELEMENTS(lines), DEVICE_BOOT_ANY, &ctx,
                              setup_vm_fd, NULL, NULL));
    discover();
}

static void teardown(void)
{
    unlink(image_path);
    if (!devices_destroyed)
        devices_destroy(&devs);
    devices_destroyed = false;
    iobus_destroy(&bus);
    console_close(con);
    unlink(console_path);
    free(ram);
}

/* The same with a (fake) in-kernel irqchip; everything restored after,
 * for CK_FORK=no runs (the ThreadSanitizer leg). */
static int (*real_ioeventfd)(int vm_fd, int fd, uint64_t gpa, bool assign);

static void setup_kvm(void)
{
    setup_vm_fd = FAKE_VM_FD;
    real_ioeventfd = virtio_pci_ioeventfd;
    virtio_pci_ioeventfd = fake_ioeventfd;
    setup();
}

static void teardown_kvm(void)
{
    teardown();
    virtio_pci_ioeventfd = real_ioeventfd;
    setup_vm_fd = -1;
}

static int (*real_signal_msi)(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags,
                              uint32_t devid);

static void setup_msix(void)
{
    setup_msi = true;
    fake_nr_msis = 0;
    fake_msi_result = 1;
    real_signal_msi = virtio_pci_signal_msi;
    virtio_pci_signal_msi = fake_signal_msi;
    setup_kvm();
}

static void teardown_msix(void)
{
    teardown_kvm();
    virtio_pci_signal_msi = real_signal_msi;
    setup_msi = false;
}

static void *at(uint64_t gpa)
{
    return ram + (gpa - RAM_GPA);
}

/* The device's avail_event: after the used ring's entries (spec 2.7.10). */
static uint16_t avail_event(void)
{
    return __atomic_load_n((uint16_t *)at(USED + 4 + 8 * QSIZE), __ATOMIC_ACQUIRE);
}

static uint8_t status(void)
{
    return mmio_read(common + VIRTIO_PCI_COMMON_STATUS, 1);
}

/* Reset, acknowledge, negotiate @features; whether FEATURES_OK stuck. */
static bool negotiate(uint64_t features)
{
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_uint_eq(status(), 0);
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
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

static void queue_setup(unsigned q, uint64_t desc, uint64_t avail, uint64_t used)
{
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

/* The driver offers one readable buffer on the transmit queue and kicks. */
static void transmit(uint64_t addr, const char *text, uint32_t len)
{
    struct vring_desc *d = at(DESC);
    struct vring_avail *a = at(AVAIL);

    if (text)
        memcpy(at(addr), text, len);
    d[0] = (struct vring_desc){ .addr = addr, .len = len };
    a->ring[a->idx % QSIZE] = 0;
    __atomic_store_n(&a->idx, a->idx + 1, __ATOMIC_RELEASE);
    kick(TXQ);
}

/* The same with event index, as Linux's driver does it: the buffer is
 * published, and the kick happens only when the device's avail_event asks
 * for it (vring_need_event over the entries just added). */
static void transmit_event_idx(uint64_t addr, const char *text, uint32_t len)
{
    struct vring_desc *d = at(DESC);
    struct vring_avail *a = at(AVAIL);
    uint16_t old = a->idx, new = old + 1;

    memcpy(at(addr), text, len);
    d[0] = (struct vring_desc){ .addr = addr, .len = len };
    a->ring[old % QSIZE] = 0;
    __atomic_store_n(&a->idx, new, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (vring_need_event(avail_event(), new, old))
        kick(TXQ);
}

/* Reading the ISR clears it: what the reads saw so far. */

static bool isr_has(uint8_t bit)
{
    isr_seen |= mmio_read(isr, 1);
    return isr_seen & bit;
}

/* Waits (for an event, bounded generously) until @cond holds. */
#define WAIT_FOR(cond)                                                     \
    do {                                                                   \
        for (int _n = 0; !(cond) && _n < 10000; _n++)                      \
            g_usleep(1000);                                                \
        ck_assert_msg((cond), "timed out waiting for " #cond);             \
    } while (0)

static bool console_has(const char *text)
{
    g_autofree char *got = NULL;

    return g_file_get_contents(console_path, &got, NULL, NULL) && strstr(got, text);
}

START_TEST(ids_and_capabilities)
{
    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 4), 0x10431af4);   /* 0x1040 + console (3) */
    ck_assert_uint_eq(cfg(PCI_INTERRUPT_PIN, 1), 1);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    mmio_write(common + VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_DF, 4) & 1, 1); /* VERSION_1 */
    /* A register at the wrong width reads 0 and writes nothing. */
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_NUMQ, 4), 0);
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0xffffffff, 4);
    ck_assert_uint_eq(status(), 0);
}
END_TEST

START_TEST(feature_negotiation)
{
    ck_assert(!negotiate(0));                                 /* no VERSION_1 */
    ck_assert(!negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 40))); /* not offered */
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX)));
}
END_TEST

START_TEST(transmit_reaches_the_console)
{
    struct vring_used *u = at(USED);

    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(TXQ, DESC, AVAIL, USED);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_ENABLE, 2), 1);
    driver_ok();
    transmit(BUF, "hello from hvc0\n", 16);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 1);
    ck_assert_uint_eq(u->ring[0].id, 0);
    ck_assert_uint_eq(u->ring[0].len, 0);
    WAIT_FOR(isr_has(1));                                     /* a queue interrupt */
    ck_assert_uint_eq(mmio_read(isr, 1), 0);                  /* reading cleared it */
    WAIT_FOR(console_has("hello from hvc0"));
}
END_TEST

/* hvc0 writes one buffer, spins until the device has used it, then writes
 * the next, each kicked only when avail_event asks. A device that never
 * moves avail_event on gets the first kick only (avail_event 0 asks for
 * the entry at index 0 and no other): the second line never arrives. */
START_TEST(event_idx_kicks_every_buffer)
{
    struct vring_used *u = at(USED);
    static const char *const text[] = { "line one\n", "line two\n", "line three\n" };

    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX)));
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    for (unsigned i = 0; i < G_N_ELEMENTS(text); i++) {
        transmit_event_idx(BUF + 0x100 * i, text[i], strlen(text[i]));
        WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == i + 1);
    }
    WAIT_FOR(console_has("line one\nline two\nline three\n"));
    /* Waiting for the next buffer again: the one at the available index. */
    WAIT_FOR(avail_event() == 3);
}
END_TEST

static uint32_t bar0(void)
{
    return cfg(PCI_BAR0, 4) & ~0xfU;
}

static void move_bar0(uint32_t to)
{
    mmio_write(ECAM + (slot << 15) + PCI_COMMAND, 0, 2);
    ck_assert_uint_eq(fake_nr, 0);                          /* decoding off: nowhere */
    mmio_write(ECAM + (slot << 15) + PCI_BAR0, to, 4);
    discover();                                             /* decoding on again */
}

/* With an in-kernel irqchip each queue's notify address is KVM's: kicks
 * reach the worker through the queue's eventfd, never through vmm's BAR
 * handler, and the registrations follow BAR 0 as the guest moves it. */
START_TEST(notify_through_ioeventfd)
{
    struct vring_used *u = at(USED);

    ck_assert_uint_eq(fake_nr, 2);
    ck_assert_int_ge(fake_fd_at(bar0() + VIRTIO_PCI_NOTIFY_AT), 0);
    ck_assert_int_ge(fake_fd_at(bar0() + VIRTIO_PCI_NOTIFY_AT + 4), 0);
    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_EVENT_IDX)));
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    transmit_event_idx(BUF, "one\n", 4);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 1);
    ck_assert_uint_eq(fake_kicks, 1);

    move_bar0(WINDOW + 0x20000);
    ck_assert_uint_eq(bar0(), WINDOW + 0x20000);
    ck_assert_uint_eq(fake_nr, 2);
    ck_assert_int_ge(fake_fd_at(WINDOW + 0x20000 + VIRTIO_PCI_NOTIFY_AT + 4), 0);
    transmit_event_idx(BUF + 0x100, "two\n", 4);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 2);
    ck_assert_uint_eq(fake_kicks, 2);
    WAIT_FOR(console_has("one\ntwo\n"));

    /* Outside the bus's window the bus serves the BAR to nobody: nor does KVM. */
    move_bar0(0x80000000);
    ck_assert_uint_eq(fake_nr, 0);
}
END_TEST

/* Where KVM refuses, notify writes exit and the BAR's handler kicks. */
START_TEST(ioeventfd_refused_falls_back)
{
    struct vring_used *u = at(USED);

    fake_refuse = ENOSPC;
    move_bar0(WINDOW + 0x20000);
    ck_assert_uint_eq(fake_nr, 0);
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    transmit(BUF, "by exit\n", 8);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 1);
    ck_assert_uint_eq(fake_kicks, 0);
    WAIT_FOR(console_has("by exit\n"));
}
END_TEST

/* virtio-rng: the driver's writable buffers come back filled with the
 * host's random bytes, at most 64 KiB a request, none for a request with
 * no writable buffer. */
START_TEST(rng_fills_requests)
{
    struct vring_desc *d = at(DESC);
    struct vring_avail *a = at(AVAIL);
    struct vring_used *u = at(USED);
    static const uint8_t zero[64];

    slot = RNG_SLOT;
    discover();
    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 4), 0x10441af4);   /* 0x1040 + rng (4) */
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(0, DESC, AVAIL, USED);
    driver_ok();
    /* Two 64-byte requests; one of 192 KiB + 16 bytes in two buffers;
     * one with a readable buffer only. */
    d[0] = (struct vring_desc){ .addr = BUF, .len = 64, .flags = VRING_DESC_F_WRITE };
    d[1] = (struct vring_desc){ .addr = BUF + 0x100, .len = 64, .flags = VRING_DESC_F_WRITE };
    d[2] = (struct vring_desc){ .addr = BUF + 0x1000, .len = 0x30000,
                                .flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, .next = 3 };
    d[3] = (struct vring_desc){ .addr = BUF + 0x40000, .len = 16, .flags = VRING_DESC_F_WRITE };
    d[4] = (struct vring_desc){ .addr = BUF + 0x200, .len = 16 };
    a->ring[0] = 0;
    a->ring[1] = 1;
    a->ring[2] = 2;
    a->ring[3] = 4;
    __atomic_store_n(&a->idx, 4, __ATOMIC_RELEASE);
    kick(0);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 4);
    ck_assert_uint_eq(u->ring[0].len, 64);
    ck_assert_uint_eq(u->ring[1].len, 64);
    ck_assert_uint_eq(u->ring[2].id, 2);
    ck_assert_uint_eq(u->ring[2].len, 65536);
    ck_assert_uint_eq(u->ring[3].len, 0);
    ck_assert(memcmp(at(BUF), zero, 64) && memcmp(at(BUF + 0x100), zero, 64));
    ck_assert(memcmp(at(BUF), at(BUF + 0x100), 64));
    ck_assert(memcmp(at(BUF + 0x1000 + 65536 - 64), zero, 64));
    ck_assert(!memcmp(at(BUF + 0x1000 + 65536), zero, 64)); /* past the cap: untouched */
    ck_assert(!memcmp(at(BUF + 0x40000), zero, 16));
}
END_TEST

/* virtio-blk behind the same transport: its configuration, and a write
 * then a read of one sector served on the worker (the transport lock is
 * let go while the image works). The line without a disk is empty. */
START_TEST(blk_serves_requests)
{
    struct vring_desc *d = at(DESC);
    struct vring_avail *a = at(AVAIL);
    struct vring_used *u = at(USED);
    struct virtio_blk_outhdr out = { .type = VIRTIO_BLK_T_OUT, .sector = 2 };
    struct virtio_blk_outhdr in = { .type = VIRTIO_BLK_T_IN, .sector = 2 };
    uint8_t *status_bytes = at(BUF + 0x80), on_disk[512];
    uint64_t bar;
    int fd;

    slot = BLK_SLOT + 1;
    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 4), 0xffffffff);
    slot = BLK_SLOT;
    discover();
    bar = cfg(PCI_BAR0, 4) & ~0xfU;
    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 4), 0x10421af4);   /* 0x1040 + block (2) */
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    mmio_write(common + VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    ck_assert(mmio_read(common + VIRTIO_PCI_COMMON_DF, 4) & (1u << VIRTIO_BLK_F_FLUSH));
    ck_assert_uint_eq(mmio_read(bar + VIRTIO_PCI_DEVICE_AT, 4), IMAGE_SIZE / 512); /* capacity */
    ck_assert_uint_eq(mmio_read(bar + VIRTIO_PCI_DEVICE_AT + 20, 4), 512);         /* blk_size */
    ck_assert(negotiate((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_BLK_F_FLUSH)));
    queue_setup(0, DESC, AVAIL, USED);
    driver_ok();

    memcpy(at(BUF), &out, sizeof(out));
    memcpy(at(BUF + 0x40), &in, sizeof(in));
    memset(at(BUF + 0x1000), 0xab, 512);
    status_bytes[0] = status_bytes[1] = 0xee;
    d[0] = (struct vring_desc){ .addr = BUF, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 1 };
    d[1] = (struct vring_desc){ .addr = BUF + 0x1000, .len = 512, .flags = VRING_DESC_F_NEXT,
                                .next = 2 };
    d[2] = (struct vring_desc){ .addr = BUF + 0x80, .len = 1, .flags = VRING_DESC_F_WRITE };
    d[3] = (struct vring_desc){ .addr = BUF + 0x40, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 4 };
    d[4] = (struct vring_desc){ .addr = BUF + 0x2000, .len = 512,
                                .flags = VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, .next = 5 };
    d[5] = (struct vring_desc){ .addr = BUF + 0x81, .len = 1, .flags = VRING_DESC_F_WRITE };
    a->ring[0] = 0;
    a->ring[1] = 3;
    __atomic_store_n(&a->idx, 2, __ATOMIC_RELEASE);
    kick(0);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 2);
    ck_assert_uint_eq(u->ring[0].id, 0);
    ck_assert_uint_eq(u->ring[0].len, 1);
    ck_assert_uint_eq(u->ring[1].id, 3);
    ck_assert_uint_eq(u->ring[1].len, 513);
    ck_assert_uint_eq(status_bytes[0], VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(status_bytes[1], VIRTIO_BLK_S_OK);
    ck_assert(!memcmp(at(BUF + 0x2000), at(BUF + 0x1000), 512));
    fd = open(image_path, O_RDONLY);
    ck_assert_int_eq(pread(fd, on_disk, 512, 1024), 512);
    close(fd);
    ck_assert(!memcmp(on_disk, at(BUF + 0x1000), 512));
    ck_assert(isr_has(1));
}
END_TEST

START_TEST(queue_outside_ram)
{
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(TXQ, RAM_GPA + RAM_SIZE - 16, AVAIL, USED);
    ck_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(mmio_read(isr, 1), VIRTIO_PCI_ISR_CONFIG);
    /* Only a reset clears it; then the device works again. */
    driver_ok();
    ck_assert(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    ck_assert(!(status() & VIRTIO_CONFIG_S_NEEDS_RESET));
}
END_TEST

START_TEST(hostile_chain)
{
    struct vring_used *u = at(USED);

    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    transmit(UINT64_MAX - 8, NULL, 64);                       /* wraps past 2^64 */
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(u->idx, 0);
    ck_assert_uint_eq(mmio_read(isr, 1), VIRTIO_PCI_ISR_CONFIG);
    /* Another kick does nothing until the reset. */
    transmit(BUF, "ignored\n", 8);
    ck_assert_uint_eq(u->idx, 0);
}
END_TEST

START_TEST(queue_fields_locked_once_enabled)
{
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(TXQ, DESC, AVAIL, USED);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_DESCLO, 0x1234000, 4);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_DESCLO, 4), (uint32_t)DESC);
    /* A queue the device does not have reads size 0. */
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, 7, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    /* Notifying a queue that does not exist is ignored. */
    mmio_write(notify + 7 * 4, 7, 2);
}
END_TEST

static void offload_ready(void)
{
    slot = OFFLOAD_SLOT;
    discover();
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(0, DESC, AVAIL, USED);
    queue_setup(1, DESC + 0x400, AVAIL + 0x400, USED + 0x400);
    driver_ok();
}

START_TEST(offload_start_kick_call)
{
    uint64_t count = 0;
    struct vring_used *u = at(USED);

    u->flags = 0x5a5a;             /* the backend's to write, not the transport's */
    offload_ready();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    ck_assert_uint_eq(backend.n, 1);
    ck_assert_uint_eq(backend.index, 0);
    ck_assert_uint_eq(backend.size, QSIZE);
    ck_assert_uint_eq(backend.desc, DESC);
    ck_assert(backend.features & (1ULL << VIRTIO_F_VERSION_1));
    ck_assert_uint_eq(u->flags, 0x5a5a);
    /* The driver's notify (here through the BAR: no KVM) reaches the backend. */
    mmio_write(notify, 0, 2);
    ck_assert_int_eq(read(backend.kick_fd, &count, sizeof(count)), sizeof(count));
    ck_assert_uint_eq(count, 1);
    /* The backend's call becomes the queue interrupt. */
    ck_assert(!isr_has(1));
    ck_assert_int_eq(eventfd_write(backend.call_fd, 1), 0);
    WAIT_FOR(isr_has(1));
    /* DRIVER_OK again does not start it twice. */
    driver_ok();
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
    driver_ok();
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    ck_assert_uint_eq(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE), 1);
}
END_TEST

START_TEST(offload_reset_waits_for_stop)
{
    offload_ready();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    WAIT_FOR(status() == 0);
    ck_assert_uint_eq(__atomic_load_n(&backend.stops, __ATOMIC_ACQUIRE), 1);
    /* The stop came before the reset: the device was still live. */
    ck_assert(backend.status_at_stop & VIRTIO_CONFIG_S_DRIVER_OK);
    /* And the device starts again after the next set-up. */
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(0, DESC, AVAIL, USED);
    driver_ok();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 2);
}
END_TEST

START_TEST(offload_start_failure_needs_reset)
{
    backend.fail = true;
    offload_ready();
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(mmio_read(isr, 1), VIRTIO_PCI_ISR_CONFIG);
    /* Nothing to stop at reset. */
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_uint_eq(status(), 0);
    ck_assert_uint_eq(backend.stops, 0);
}
END_TEST

START_TEST(offload_stopped_with_the_device)
{
    offload_ready();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    devices_destroy(&devs);
    ck_assert_uint_eq(backend.stops, 1);
    devices_destroyed = true;
}
END_TEST

/* MSI-X as the driver sets it up: BAR 0's table and PBA, an entry per
 * vector (@n: how many to program, vector v's message address 0xfee00000 +
 * v * 0x1000, data 0x40 + v, left masked), then Message Control. */
static uint64_t msix_table, msix_pba;
#define MSG_ADDR(v) (0xfee00000ULL + (v) * 0x1000)
#define MSG_DATA(v) (0x40U + (v))

static uint64_t entry(unsigned v, unsigned field)
{
    return msix_table + 16 * v + field;
}

static void msix_find(void)
{
    ck_assert_uint_ne(msix_cap, 0);
    ck_assert_uint_eq(cfg(msix_cap + 4, 4) & 7, 0);  /* BAR 0 */
    ck_assert_uint_eq(cfg(msix_cap + 8, 4) & 7, 0);
    msix_table = bar0() + (cfg(msix_cap + 4, 4) & ~7U);
    msix_pba = bar0() + (cfg(msix_cap + 8, 4) & ~7U);
}

static void msix_program(unsigned n)
{
    msix_find();
    for (unsigned v = 0; v < n; v++) {
        mmio_write(entry(v, 0), (uint32_t)MSG_ADDR(v), 4);
        mmio_write(entry(v, 4), MSG_ADDR(v) >> 32, 4);
        mmio_write(entry(v, 8), MSG_DATA(v), 4);
    }
}

static void msix_control(uint16_t bits)
{
    mmio_write(ECAM + (slot << 15) + msix_cap + 2, bits, 2);
}

static void unmask(unsigned v, bool unmasked)
{
    mmio_write(entry(v, 12), unmasked ? 0 : 1, 4);
}

static void expect_msi(unsigned i, unsigned v)
{
    ck_assert_uint_gt(msis(), i);
    ck_assert_uint_eq(fake_msis[i].addr, MSG_ADDR(v));
    ck_assert_uint_eq(fake_msis[i].data, MSG_DATA(v));
    ck_assert_uint_eq(fake_msis[i].devid, slot << 3);
}

/* One vector per queue and one for configuration, in BAR 0 beside the
 * notify region, every entry masked and MSI-X off at first. */
START_TEST(msix_capability)
{
    msix_find();
    ck_assert_uint_eq(cfg(msix_cap + 2, 2), 2);       /* table size 3: 2 queues + config */
    ck_assert_uint_eq(msix_table, bar0() + VIRTIO_PCI_MSIX_TABLE_AT);
    ck_assert_uint_eq(msix_pba, bar0() + VIRTIO_PCI_MSIX_PBA_AT);
    for (unsigned v = 0; v < 3; v++)
        ck_assert_uint_eq(mmio_read(entry(v, 12), 4), 1);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);
    /* Only enable and function mask are the guest's; the size stays. */
    msix_control(0xffff);
    ck_assert_uint_eq(cfg(msix_cap + 2, 2), 0xc002);
    msix_control(0);
    ck_assert_uint_eq(cfg(msix_cap + 2, 2), 2);
    /* The notify region ends where the table starts. */
    ck_assert_uint_le(VIRTIO_PCI_NOTIFY_AT + VIRTIO_PCI_MAX_QUEUES * VIRTIO_PCI_NOTIFY_MULTIPLIER,
                      VIRTIO_PCI_MSIX_TABLE_AT);
}
END_TEST

/* A hostile driver's table accesses: other widths, unaligned, past the
 * table, the PBA, vectors outside the table. Nothing sticks, nothing is
 * sent, vmm carries on. */
START_TEST(msix_hostile_table)
{
    msix_program(0);
    mmio_write(entry(0, 0), 0x12345678, 2);           /* wrong widths */
    mmio_write(entry(0, 0), 0x12, 1);
    mmio_write(entry(0, 2), 0x12345678, 4);           /* unaligned */
    mmio_write(entry(0, 12), 0, 2);                   /* a 2-byte unmask: ignored */
    ck_assert_uint_eq(mmio_read(entry(0, 0), 4), 0);
    ck_assert_uint_eq(mmio_read(entry(0, 0), 2), 0);
    ck_assert_uint_eq(mmio_read(entry(0, 12), 4), 1);
    mmio_write(entry(0, 8), 0xabcd, 4);               /* the right way */
    ck_assert_uint_eq(mmio_read(entry(0, 8), 4), 0xabcd);
    ck_assert_uint_eq(mmio_read(entry(0, 8), 1), 0);
    /* Past the table (3 entries), up to the PBA and beyond it. */
    for (uint64_t off = 16 * 3; off < VIRTIO_PCI_MSIX_PBA_AT - VIRTIO_PCI_MSIX_TABLE_AT; off += 4) {
        mmio_write(msix_table + off, 0xffffffff, 4);
        ck_assert_uint_eq(mmio_read(msix_table + off, 4), 0);
    }
    mmio_write(msix_pba, 0xffffffff, 4);              /* read-only */
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);
    ck_assert_uint_eq(mmio_read(msix_pba + 4, 4), 0);
    mmio_write(bar0() + VIRTIO_PCI_BAR_SIZE - 4, 0xffffffff, 4);
    ck_assert_uint_eq(mmio_read(bar0() + VIRTIO_PCI_BAR_SIZE - 4, 4), 0);
    /* Vectors outside the table map nothing: NO_VECTOR reads back. */
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_MSIX, 2), 0xffff);
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 3, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_MSIX, 2), 0xffff);
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 2, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_MSIX, 2), 2);
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 1, 4);  /* wrong width */
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_MSIX, 2), 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0x8000, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_MSIX, 2), 0xffff);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, 7, 2);  /* no such queue */
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_MSIX, 2), 0xffff);
    /* A reset forgets the vectors (not the table). */
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_MSIX, 2), 0xffff);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    ck_assert_uint_eq(mmio_read(common + VIRTIO_PCI_COMMON_Q_MSIX, 2), 0xffff);
    ck_assert_uint_eq(mmio_read(entry(0, 8), 4), 0xabcd);
    ck_assert_uint_eq(msis(), 0);
}
END_TEST

/* A used buffer with MSI-X on: its queue's message, no ISR bit; masked
 * (the entry, then the whole function), a pending bit and no message until
 * it is unmasked. A queue whose vector is NO_VECTOR gets nothing. */
START_TEST(msix_queue_messages)
{
    struct vring_used *u = at(USED);

    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    msix_program(3);
    msix_control(0x8000);                             /* enabled, not masked */
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 0, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();

    /* Entry 2 masked: pending. */
    transmit(BUF, "one\n", 4);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 1);
    WAIT_FOR(mmio_read(msix_pba, 4) == 1U << 2);
    ck_assert_uint_eq(msis(), 0);
    unmask(2, true);
    expect_msi(0, 2);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);
    ck_assert_uint_eq(msis(), 1);

    /* Unmasked: at once, on the worker. */
    transmit(BUF, "two\n", 4);
    WAIT_FOR(msis() == 2);
    expect_msi(1, 2);

    /* The whole function masked: pending until Message Control unmasks it. */
    msix_control(0xc000);
    transmit(BUF, "three\n", 6);
    WAIT_FOR(mmio_read(msix_pba, 4) == 1U << 2);
    ck_assert_uint_eq(msis(), 2);
    msix_control(0x8000);
    expect_msi(2, 2);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);

    /* No vector for the queue: nothing at all, not even a pending bit. */
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0xffff, 2);
    transmit(BUF, "four\n", 5);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 4);
    WAIT_FOR(console_has("one\ntwo\nthree\nfour\n"));
    ck_assert_uint_eq(msis(), 3);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);
    /* With MSI-X no queue bit in the ISR. */
    ck_assert_uint_eq(mmio_read(isr, 1) & 1, 0);

    /* MSI-X off again: back to the ISR and INTx. */
    msix_control(0);
    transmit(BUF, "five\n", 5);
    WAIT_FOR(isr_has(1));
    ck_assert_uint_eq(msis(), 3);
}
END_TEST

static void bus_master(bool on)
{
    mmio_write(ECAM + (slot << 15) + PCI_COMMAND,
               PCI_COMMAND_MEMORY | (on ? PCI_COMMAND_MASTER : 0), 2);
}

/* Without bus mastering the function initiates nothing: a kicked queue
 * is not read (the worker had time to: nothing may happen, so the check
 * is a wait that must pass), no message is sent, the vector's pending bit
 * waits; setting the bit serves the kick and sends what waited. */
START_TEST(bus_master_gates_queues_and_messages)
{
    struct vring_used *u = at(USED);

    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    msix_program(3);
    msix_control(0x8000);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, TXQ, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);
    unmask(2, true);
    queue_setup(TXQ, DESC, AVAIL, USED);
    bus_master(false);
    driver_ok();
    transmit(BUF, "held\n", 5);
    g_usleep(200 * 1000);
    ck_assert_uint_eq(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE), 0);
    ck_assert(!console_has("held"));
    ck_assert_uint_eq(msis(), 0);
    bus_master(true);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == 1);
    WAIT_FOR(msis() == 1);
    expect_msi(0, 2);
    WAIT_FOR(console_has("held\n"));

    /* A message that fired while masked stays pending while the bit is
     * off, even once its vector is unmasked; it goes out when it is on. */
    unmask(2, false);
    transmit(BUF, "two\n", 4);
    WAIT_FOR(mmio_read(msix_pba, 4) == 1U << 2);
    bus_master(false);
    unmask(2, true);
    ck_assert_uint_eq(msis(), 1);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 1U << 2);
    bus_master(true);
    ck_assert_uint_eq(msis(), 2);
    expect_msi(1, 2);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);
}
END_TEST

/* An offloaded backend starts at DRIVER_OK only with bus mastering on: a
 * driver that sets it later starts it then. */
START_TEST(offload_waits_for_bus_master)
{
    slot = OFFLOAD_SLOT;
    discover();
    bus_master(false);
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    queue_setup(0, DESC, AVAIL, USED);
    queue_setup(1, DESC + 0x400, AVAIL + 0x400, USED + 0x400);
    driver_ok();
    g_usleep(200 * 1000);
    ck_assert_uint_eq(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE), 0);
    bus_master(true);
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    /* Off and on again while it runs: no second start. */
    bus_master(false);
    bus_master(true);
    g_usleep(100 * 1000);
    ck_assert_uint_eq(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE), 1);
}
END_TEST

/* A broken queue's configuration interrupt goes to the configuration
 * vector (and sets the ISR's configuration bit, as the spec asks); KVM
 * refusing a message costs that message only. */
START_TEST(msix_config_message)
{
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    msix_program(3);
    unmask(1, true);
    msix_control(0x8000);
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 1, 2);
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    transmit(UINT64_MAX - 8, NULL, 64);
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    WAIT_FOR(msis() == 1);
    expect_msi(0, 1);
    ck_assert_uint_eq(mmio_read(isr, 1), VIRTIO_PCI_ISR_CONFIG);

    __atomic_store_n(&fake_msi_result, -EINVAL, __ATOMIC_RELAXED);
    ck_assert(negotiate(1ULL << VIRTIO_F_VERSION_1));
    mmio_write(common + VIRTIO_PCI_COMMON_MSIX, 1, 2);
    queue_setup(TXQ, DESC, AVAIL, USED);
    driver_ok();
    transmit(UINT64_MAX - 8, NULL, 64);
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(msis(), 1);
}
END_TEST

/* An offloaded queue's backend call becomes its vector's message. */
START_TEST(msix_offload_call)
{
    offload_ready();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    msix_program(3);
    unmask(0, true);
    msix_control(0x8000);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    ck_assert_int_eq(eventfd_write(backend.call_fd, 1), 0);
    WAIT_FOR(msis() == 1);
    expect_msi(0, 0);
    ck_assert_uint_eq(mmio_read(isr, 1), 0);
}
END_TEST

/* KVM's side of irq routing, faked: the table it was last given and the
 * eventfds bound to GSIs. A backend's call on a bound eventfd is KVM's:
 * backend_call() delivers it as the route's message (irqfd_msis). */
static struct irq_routes routes;
static struct kvm_irq_routing_entry kvm_table[64];
static unsigned kvm_nr, irqfd_msis;
static int bound_fd = -1, bound_gsi = -1;
static uint32_t irqfd_last_data;

static int kvm_refuse;  /* KVM_SET_GSI_ROUTING fails with it (errno), the table unchanged */

static int fake_set_routing(int vm_fd, const struct kvm_irq_routing *t)
{
    ck_assert_int_eq(vm_fd, FAKE_VM_FD);
    ck_assert_uint_le(t->nr, G_N_ELEMENTS(kvm_table));
    if (kvm_refuse)
        return -kvm_refuse;
    kvm_nr = t->nr;
    memcpy(kvm_table, t->entries, t->nr * sizeof(*t->entries));
    return 0;
}

/* The route KVM has for @gsi; it must be an MSI route. */
static const struct kvm_irq_routing_entry *kvm_route(int gsi)
{
    for (unsigned i = 0; i < kvm_nr; i++)
        if ((int)kvm_table[i].gsi == gsi) {
            ck_assert_uint_eq(kvm_table[i].type, KVM_IRQ_ROUTING_MSI);
            return &kvm_table[i];
        }
    return NULL;
}

static void irqfd_deliver(void)
{
    const struct kvm_irq_routing_entry *e = kvm_route(bound_gsi);

    ck_assert_ptr_nonnull(e); /* an irqfd never outlives its route */
    irqfd_last_data = e->u.msi.data;
    irqfd_msis++;
}

static int fake_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign)
{
    uint64_t count;

    ck_assert_int_eq(vm_fd, FAKE_VM_FD);
    if (!assign) {
        ck_assert_int_eq(fd, bound_fd);
        ck_assert_int_eq((int)gsi, bound_gsi);
        bound_fd = bound_gsi = -1;
        return 0;
    }
    ck_assert_int_eq(bound_fd, -1);
    ck_assert_ptr_nonnull(kvm_route((int)gsi));
    bound_fd = fd;
    bound_gsi = (int)gsi;
    /* What was counted before is raised at the binding, as KVM does. */
    if (read(fd, &count, sizeof(count)) == sizeof(count))
        irqfd_deliver();
    return 0;
}

/* The fake backend signals queue 0's call eventfd. Under the device lock
 * (a register access), as a binding never changes midway. */
static void backend_call(void)
{
    mmio_read(common + VIRTIO_PCI_COMMON_STATUS, 1); /* the device settles */
    if (bound_fd >= 0) {
        ck_assert_int_eq(bound_fd, backend.call_fd);
        irqfd_deliver();
        return;
    }
    ck_assert_int_eq(eventfd_write(backend.call_fd, 1), 0);
}

/* Whether the backend's calls so far were read (by the worker: a call it
 * relays, or by nobody yet). */
static bool calls_taken(void)
{
    struct pollfd p = { .fd = backend.call_fd, .events = POLLIN };

    return poll(&p, 1, 0) == 0;
}

static int (*real_set_routing)(int vm_fd, const struct kvm_irq_routing *t);
static int (*real_irqfd)(int vm_fd, int fd, uint32_t gsi, bool assign);
static const struct kvm_irq_routing_entry pin0 = {
    .gsi = 0, .type = KVM_IRQ_ROUTING_IRQCHIP, .u.irqchip = { 0, 0 },
};

static void setup_irqfd_max(unsigned kvm_max)
{
    real_set_routing = irq_routes_kvm_set;
    real_irqfd = irq_routes_kvm_irqfd;
    irq_routes_kvm_set = fake_set_routing;
    irq_routes_kvm_irqfd = fake_irqfd;
    kvm_nr = irqfd_msis = 0;
    kvm_refuse = 0;
    bound_fd = bound_gsi = -1;
    irq_routes_init(&routes);
    ck_assert(irq_routes_start(&routes, FAKE_VM_FD, &pin0, 1, kvm_max, NULL));
    setup_routes = &routes;
    setup_msix();
}

static void setup_irqfd(void)
{
    setup_irqfd_max(64);
}

static void teardown_irqfd(void)
{
    teardown_msix();
    setup_routes = NULL;
    irq_routes_clear(&routes);
    irq_routes_kvm_set = real_set_routing;
    irq_routes_kvm_irqfd = real_irqfd;
}

static void offload_msix_ready(void)
{
    offload_ready();
    WAIT_FOR(__atomic_load_n(&backend.starts, __ATOMIC_ACQUIRE) == 1);
    msix_program(3);
    msix_control(0x8000);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
}

/* The backend's call goes to KVM while its vector is open; while it is
 * masked (entry or function), the worker takes the call and it becomes the
 * pending bit, sent at the unmask; never lost, never sent masked. */
START_TEST(irqfd_follows_the_mask)
{
    const struct kvm_irq_routing_entry *e;

    offload_msix_ready();
    ck_assert_int_eq(bound_fd, -1);                  /* entry 0 still masked */
    unmask(0, true);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    e = kvm_route(bound_gsi);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_ge(bound_gsi, 1);                  /* above the default route */
    ck_assert_uint_eq(e->u.msi.address_lo, (uint32_t)MSG_ADDR(0));
    ck_assert_uint_eq(e->u.msi.data, MSG_DATA(0));
    ck_assert_uint_eq(e->flags, FAKE_MSI_FLAGS);
    ck_assert_uint_eq(e->u.msi.devid, slot << 3);
    ck_assert_uint_eq(kvm_table[0].type, KVM_IRQ_ROUTING_IRQCHIP); /* kept */
    backend_call();
    ck_assert_uint_eq(irqfd_msis, 1);
    ck_assert_uint_eq(msis(), 0);

    /* Entry masked: unbound, the route gone, the call pending. */
    unmask(0, false);
    ck_assert_int_eq(bound_fd, -1);
    ck_assert_uint_eq(kvm_nr, 1);
    backend_call();
    WAIT_FOR(mmio_read(msix_pba, 4) == 1U << 0);
    ck_assert_uint_eq(msis(), 0);
    unmask(0, true);
    expect_msi(0, 0);                                /* the pending one, sent */
    ck_assert_int_eq(bound_fd, backend.call_fd);
    ck_assert_uint_eq(mmio_read(msix_pba, 4), 0);

    /* A new message on the open entry: the route carries it. */
    mmio_write(entry(0, 8), 0x99, 4);
    ck_assert_uint_eq(kvm_route(bound_gsi)->u.msi.data, 0x99);
    backend_call();
    ck_assert_uint_eq(irqfd_last_data, 0x99);

    /* The function masked: the same, through Message Control. */
    msix_control(0xc000);
    ck_assert_int_eq(bound_fd, -1);
    backend_call();
    WAIT_FOR(mmio_read(msix_pba, 4) == 1U << 0);
    msix_control(0x8000);
    ck_assert_uint_eq(msis(), 2);
    ck_assert_uint_eq(fake_msis[1].data, 0x99);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    ck_assert_uint_eq(irqfd_msis, 2);
}
END_TEST

/* No vector, another vector, MSI-X off, a reset: the binding follows, and
 * each call goes where the driver's choice says. */
START_TEST(irqfd_follows_the_vector)
{
    offload_msix_ready();
    unmask(0, true);
    unmask(2, true);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    /* NO_VECTOR: unbound, and the call sends nothing. */
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 0xffff, 2);
    ck_assert_int_eq(bound_fd, -1);
    backend_call();
    /* The worker takes it, with no vector to send (had the vector changed
     * first, the worker or the binding would send it: either is right). */
    WAIT_FOR(calls_taken());
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 2, 2);  /* rebinds */
    ck_assert_int_eq(bound_fd, backend.call_fd);
    ck_assert_uint_eq(kvm_route(bound_gsi)->u.msi.data, MSG_DATA(2));
    /* MSI-X off: INTx, through the worker. */
    msix_control(0);
    ck_assert_int_eq(bound_fd, -1);
    ck_assert_uint_eq(kvm_nr, 1);
    backend_call();
    WAIT_FOR(isr_has(1));
    /* Back on, then a reset (the worker stops the backend): unbound. */
    msix_control(0x8000);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    mmio_write(common + VIRTIO_PCI_COMMON_STATUS, 0, 1);
    WAIT_FOR(status() == 0);
    ck_assert_int_eq(bound_fd, -1);
    ck_assert_uint_eq(msis(), 0);
}
END_TEST

/* KVM refuses the tables as the driver changes an open vector's message:
 * the update fails, and so does the route's removal, so KVM's route keeps
 * the old message. The call eventfd must not stay bound there (nor be
 * bound again): the worker sends the new message. Once KVM takes tables
 * again, the next write brings the route up to date and binds it. */
START_TEST(irqfd_never_on_a_stale_route)
{
    offload_msix_ready();
    unmask(0, true);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    kvm_refuse = ENOMEM;
    mmio_write(entry(0, 8), 0x99, 4);
    ck_assert_uint_eq(kvm_nr, 2);                    /* the old route is still KVM's */
    ck_assert_int_eq(bound_fd, -1);
    backend_call();
    WAIT_FOR(msis() == 1);
    ck_assert_uint_eq(fake_msis[0].data, 0x99);
    ck_assert_uint_eq(irqfd_msis, 0);
    kvm_refuse = 0;
    mmio_write(entry(0, 8), 0x9a, 4);
    ck_assert_int_eq(bound_fd, backend.call_fd);
    ck_assert_uint_eq(kvm_route(bound_gsi)->u.msi.data, 0x9a);
    backend_call();
    ck_assert_uint_eq(irqfd_last_data, 0x9a);
    ck_assert_uint_eq(msis(), 1);
}
END_TEST

/* KVM's table has room for one route: vector 0 takes it, vector 1 has
 * none, and queue 0 on vector 1 keeps working through the worker. */
START_TEST(irqfd_out_of_gsis)
{
    offload_msix_ready();
    unmask(0, true);
    unmask(1, true);
    ck_assert_int_eq(bound_fd, backend.call_fd);     /* vector 0 */
    mmio_write(common + VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
    ck_assert_int_eq(bound_fd, -1);
    backend_call();
    WAIT_FOR(msis() == 1);
    expect_msi(0, 1);
    ck_assert_uint_eq(irqfd_msis, 0);
}
END_TEST

static void setup_irqfd_small(void)
{
    setup_irqfd_max(2);
}

int main(void)
{
    Suite *s = suite_create("virtio-pci");
    TCase *tc = tcase_create("virtio-pci");

    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ids_and_capabilities);
    tcase_add_test(tc, feature_negotiation);
    tcase_add_test(tc, transmit_reaches_the_console);
    tcase_add_test(tc, event_idx_kicks_every_buffer);
    tcase_add_test(tc, rng_fills_requests);
    tcase_add_test(tc, blk_serves_requests);
    tcase_add_test(tc, queue_outside_ram);
    tcase_add_test(tc, hostile_chain);
    tcase_add_test(tc, queue_fields_locked_once_enabled);
    tcase_add_test(tc, offload_start_kick_call);
    tcase_add_test(tc, offload_reset_waits_for_stop);
    tcase_add_test(tc, offload_start_failure_needs_reset);
    tcase_add_test(tc, offload_stopped_with_the_device);
    suite_add_tcase(s, tc);
    tc = tcase_create("ioeventfd");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_kvm, teardown_kvm);
    tcase_add_test(tc, notify_through_ioeventfd);
    tcase_add_test(tc, ioeventfd_refused_falls_back);
    tcase_add_test(tc, event_idx_kicks_every_buffer);
    suite_add_tcase(s, tc);
    tc = tcase_create("msix");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_msix, teardown_msix);
    tcase_add_test(tc, msix_capability);
    tcase_add_test(tc, msix_hostile_table);
    tcase_add_test(tc, msix_queue_messages);
    tcase_add_test(tc, msix_config_message);
    tcase_add_test(tc, msix_offload_call);
    tcase_add_test(tc, bus_master_gates_queues_and_messages);
    tcase_add_test(tc, offload_waits_for_bus_master);
    tcase_add_test(tc, transmit_reaches_the_console); /* MSI-X offered, the driver uses INTx */
    suite_add_tcase(s, tc);
    tc = tcase_create("irqfd");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_irqfd, teardown_irqfd);
    tcase_add_test(tc, irqfd_follows_the_mask);
    tcase_add_test(tc, irqfd_follows_the_vector);
    tcase_add_test(tc, irqfd_never_on_a_stale_route);
    tcase_add_test(tc, msix_queue_messages); /* vmm's own models: KVM_SIGNAL_MSI still */
    suite_add_tcase(s, tc);
    tc = tcase_create("irqfd-full");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup_irqfd_small, teardown_irqfd);
    tcase_add_test(tc, irqfd_out_of_gsis);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
