// fuzz-sources: src/devices/virtio_pci.c src/devices/virtio_console.c src/devices/virtio_rng.c
// fuzz-sources: src/devices/virtio_blk.c src/devices/virtio_vsock.c
// fuzz-sources: src/devices/pci.c src/devices/pci_host.c src/devices/aml.c src/devices/dt.c
// fuzz-sources: src/core/irq_routes.c
// fuzz-sources: src/virtio/virtqueue.c src/core/guest_mem.c src/core/device.c src/core/iobus.c
// fuzz-sources: src/core/irq.c src/base/seccomp.c
// fuzz-sources: fuzz/fake_console.c fuzz/fake_vm.c fuzz/fake_kvm.c src/core/console_observer.c
// fuzz-includes: include src/arch/x86_64 fuzz
// fuzz-pkgs: glib-2.0 libseccomp
// fuzz-libs: -lfdt
// fuzz-options: -max_len=4096
/*
 * libFuzzer target: the virtio PCI transport (src/devices/virtio_pci.c)
 * with virtio-console, virtio-rng, virtio-blk (over a 64 KiB temporary
 * image) and virtio-vsock (over a fake vhost) behind it, driven by a hostile
 * driver on a PCI host, their INTx lines wired (fake_kvm) and their worker
 * threads running. Guest RAM is a heap buffer of its exact size, so ASan
 * sees any host access past it. The input is a script: configuration
 * space and BAR accesses of any offset and width, scribbles on RAM, and
 * shortcuts a driver would take (negotiate, set a queue up with its rings
 * in RAM, offer a chain and kick), so that the queues do get used.
 *
 * Checked beyond ASan/UBSan: each device's notify registrations with
 * (fake) KVM are all of its queues or none, at BAR 0 + 0x3000 + 4n, and
 * there exactly while BAR 0 decodes inside the window (unless KVM refused:
 * it does, as the real one, for an address another device's BAR already
 * took); only existing ones are removed; the devices never stop the VM.
 * The fake vhost checks what virtio-vsock hands it: rings wholly inside
 * guest RAM, the RAM region as the memory table, no ring changed while
 * vhost runs, and vhost stopped by the time the device is gone.
 */
#include <errno.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "vmm/device.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_rng.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/iobus.h"

#include "fake.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS 256
#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define WINDOW_SIZE 0x100000ULL
#define RAM_GPA 0x100000ULL
#define RAM_SIZE 0x10000ULL
#define VM_FD 1000
#define NR_DEVS 4
#define VSOCK_DEV 3
#define IMAGE_SIZE 65536
#define MAX_REGS 16

static const struct pci_host_params host = { .window_base = WINDOW, .window_size = WINDOW_SIZE };
static const unsigned slots[NR_DEVS] = { 1, 2, 3, 4 }, nr_queues[NR_DEVS] = { 2, 1, 1, 3 };
static const struct device_desc lines[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_ANY, &host },
    { &virtio_console_device, 1, 0, 1, DEVICE_BOOT_ANY },
    { &virtio_rng_device, 2, 0, 2, DEVICE_BOOT_ANY },
    VIRTIO_BLK_LINE(3, 3, 0),
    VIRTIO_VSOCK_LINE(4, 4),
};

/* The disk's image: a temporary file, made once, removed at exit. */
static char image[] = "/tmp/vmm-fuzz-blk-XXXXXX";

static void remove_image(void)
{
    unlink(image);
}

static const struct device_disk *disk(void)
{
    static struct device_disk d;

    if (!d.path) {
        int fd = mkstemp(image);

        FUZZ_CHECK(fd >= 0 && ftruncate(fd, IMAGE_SIZE) == 0);
        close(fd);
        atexit(remove_image);
        d = (struct device_disk){ .path = image, .serial = "fuzz" };
    }
    return &d;
}

/* KVM's ioeventfd registrations, as fake KVM keeps them. */
static struct { int fd; uint64_t gpa; } regs[MAX_REGS];
static unsigned nr_regs;
static bool kvm, refuse;              /* an in-kernel irqchip; KVM refuses ioeventfds */

static int fake_ioeventfd(int vm_fd, int fd, uint64_t gpa, bool assign)
{
    FUZZ_CHECK(vm_fd == VM_FD);
    for (unsigned i = 0; i < nr_regs; i++) {
        if (regs[i].gpa != gpa)
            continue;
        if (assign)
            return -EEXIST;             /* KVM's collision check */
        FUZZ_CHECK(regs[i].fd == fd);
        regs[i] = regs[--nr_regs];
        return 0;
    }
    FUZZ_CHECK(assign);                 /* only existing ones go */
    if (refuse)
        return -ENOSPC;
    FUZZ_CHECK(nr_regs < MAX_REGS);
    regs[nr_regs].fd = fd;
    regs[nr_regs++].gpa = gpa;
    return 0;
}

/* vhost-vsock, faked: what a hostile driver can make virtio-vsock hand it. */
static uint8_t *vhost_ram;
static bool vhost_running;

static void check_ring(uint64_t hva, uint64_t bytes)
{
    uintptr_t lo = (uintptr_t)vhost_ram;

    FUZZ_CHECK(hva >= lo && hva - lo <= RAM_SIZE && bytes <= RAM_SIZE - (hva - lo));
}

static int fake_vhost(int fd, unsigned long request, void *arg)
{
    static unsigned num[2];

    switch (request) {
    case VHOST_GET_FEATURES:
        *(uint64_t *)arg = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
                           (1ULL << VIRTIO_RING_F_EVENT_IDX) | (1ULL << 1) /* SEQPACKET */;
        return 0;
    case VHOST_SET_OWNER:
    case VHOST_VSOCK_SET_GUEST_CID:
        return 0;
    case VHOST_VSOCK_SET_RUNNING:
        FUZZ_CHECK(*(int *)arg != vhost_running); /* started once, stopped once */
        vhost_running = *(int *)arg;
        return 0;
    }
    FUZZ_CHECK(!vhost_running);                /* nothing changes under a running vhost */
    switch (request) {
    case VHOST_SET_FEATURES:
        return 0;
    case VHOST_SET_MEM_TABLE: {
        const struct vhost_memory *m = arg;

        FUZZ_CHECK(m->nregions == 1 && m->regions[0].guest_phys_addr == RAM_GPA &&
                   m->regions[0].memory_size == RAM_SIZE &&
                   m->regions[0].userspace_addr == (uintptr_t)vhost_ram);
        return 0;
    }
    case VHOST_SET_VRING_NUM: {
        const struct vhost_vring_state *s = arg;

        FUZZ_CHECK(s->index < 2 && s->num && s->num <= VIRTIO_PCI_QUEUE_MAX_SIZE);
        num[s->index] = s->num;
        return 0;
    }
    case VHOST_SET_VRING_ADDR: {
        const struct vhost_vring_addr *a = arg;

        FUZZ_CHECK(a->index < 2);
        check_ring(a->desc_user_addr, 16ULL * num[a->index]);
        check_ring(a->avail_user_addr, 6 + 2ULL * num[a->index]);
        check_ring(a->used_user_addr, 6 + 8ULL * num[a->index]);
        return 0;
    }
    case VHOST_SET_VRING_BASE:
    case VHOST_SET_VRING_KICK:
    case VHOST_SET_VRING_CALL:
        FUZZ_CHECK(((const struct vhost_vring_state *)arg)->index < 2);
        return 0;
    }
    FUZZ_CHECK(!"an ioctl vhost-vsock does not have");
    return -ENOTTY;
}

static uint32_t kvm_irq(int irq)
{
    return irq;
}

static struct iobus bus;

static uint32_t mmio(uint64_t addr, uint32_t v, unsigned len, bool is_write)
{
    uint64_t buf = v;

    iobus_access(&bus, IOBUS_MMIO, NULL, addr, (uint8_t *)&buf, len, is_write);
    return (uint32_t)buf;
}

static uint64_t config_at(unsigned dev, unsigned offset)
{
    return ECAM + ((uint64_t)slots[dev] << 15) + offset;
}

static uint64_t bar0(unsigned dev)
{
    uint32_t cmd = mmio(config_at(dev, 0x04), 0, 2, false);
    uint32_t bar = mmio(config_at(dev, 0x10), 0, 4, false) & ~0xfU;

    return (cmd & 2) ? bar : 0;
}

/* The registrations of device @dev (the transport behind it): all its
 * queues' eventfds at its notify region or none; all while BAR 0 decodes
 * inside the window, unless KVM refused them (another device's were in the
 * way: the writes then exit); none otherwise. */
static void check_registrations(const struct device_set *devs, unsigned dev)
{
    const struct device *d = g_ptr_array_index(devs->devices, 1 + dev);
    const struct virtio_pci *vp = d->state;
    uint64_t bar = bar0(dev), notify = bar + VIRTIO_PCI_NOTIFY_AT;
    bool inside = bar && bar >= WINDOW && bar + VIRTIO_PCI_BAR_SIZE <= WINDOW + WINDOW_SIZE;
    unsigned mine = 0, others = 0;

    for (unsigned i = 0; i < nr_regs; i++) {
        unsigned q;

        for (q = 0; q < nr_queues[dev] && vp->queue_fd[q] != regs[i].fd; q++)
            ;
        if (q < nr_queues[dev]) {
            FUZZ_CHECK(regs[i].gpa == notify + 4 * q);
            mine++;
        } else if (regs[i].gpa >= notify && regs[i].gpa < notify + 4 * nr_queues[dev]) {
            others++;
        }
    }
    FUZZ_CHECK(mine == 0 || mine == nr_queues[dev]);
    if (!inside || !kvm || refuse)
        FUZZ_CHECK(mine == 0);
    else if (!mine)                     /* KVM refused it (another BAR was there) */
        FUZZ_CHECK(others || vp->ioeventfd_refused);
}

static void common_write(unsigned dev, unsigned off, uint32_t v, unsigned len)
{
    uint64_t bar = bar0(dev);

    if (bar)
        mmio(bar + VIRTIO_PCI_COMMON_AT + off, v, len, true);
}

/* The shortcuts: features, a queue set up in RAM, DRIVER_OK. */
static void driver_setup(struct fuzz_input *in, unsigned dev)
{
    uint64_t features = fuzz_u64(in);
    unsigned q = fuzz_u8(in) % 4, size = 1u << (fuzz_u8(in) % 9);
    uint64_t desc = RAM_GPA + (fuzz_u16(in) % RAM_SIZE & ~15ULL);
    uint64_t avail = RAM_GPA + (fuzz_u16(in) % RAM_SIZE & ~1ULL);
    uint64_t used = RAM_GPA + (fuzz_u16(in) % RAM_SIZE & ~3ULL);

    mmio(config_at(dev, 0x04), 6, 2, true);    /* memory and bus master */
    common_write(dev, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    common_write(dev, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    for (unsigned half = 0; half < 2; half++) {
        common_write(dev, VIRTIO_PCI_COMMON_GFSELECT, half, 4);
        common_write(dev, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> (32 * half)), 4);
    }
    common_write(dev, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                 VIRTIO_CONFIG_S_FEATURES_OK, 1);
    common_write(dev, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    common_write(dev, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
    common_write(dev, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)desc, 4);
    common_write(dev, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)avail, 4);
    common_write(dev, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)used, 4);
    common_write(dev, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    /* vsock starts only with both its receive and transmit queues: the
     * other of the two, its rings just after these. */
    if (dev == VSOCK_DEV && q < 2) {
        common_write(dev, VIRTIO_PCI_COMMON_Q_SELECT, q ^ 1, 2);
        common_write(dev, VIRTIO_PCI_COMMON_Q_SIZE, size, 2);
        common_write(dev, VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)(desc + 0x800), 4);
        common_write(dev, VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)(avail + 0x800), 4);
        common_write(dev, VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)(used + 0x800), 4);
        common_write(dev, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    }
    common_write(dev, VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                 VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct console *con;
    struct fuzz_input in = { data, size, 0 };
    struct guest_mem mem = { .nr = 1 };
    struct device_ctx ctx = { .iobus = &bus, .mem = &mem, .disks = disk(), .nr_disks = 1,
                              .vsock_cid = 3 };
    struct device_set devs = { 0 };
    uint8_t setup = fuzz_u8(&in);
    uint8_t *ram = calloc(1, RAM_SIZE);

    if (!con)
        con = fake_console_new();
    fake_vm_reset();
    fake_kvm_reset();
    nr_regs = 0;
    kvm = setup & 1;
    refuse = setup & 2;
    virtio_pci_ioeventfd = fake_ioeventfd;
    virtio_vsock_dev_path = "/dev/null";
    virtio_vsock_ioctl = fake_vhost;
    vhost_ram = ram;
    vhost_running = false;
    ctx.console = con;
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    mem.ram = &mem.regions[0];
    iobus_init(&bus);
    FUZZ_CHECK(devices_realize(&devs, lines, G_N_ELEMENTS(lines), DEVICE_BOOT_ANY | DEVICE_VSOCK, &ctx,
                               kvm ? VM_FD : -1, kvm_irq, NULL));

    for (int n = 0; n < MAX_OPS && fuzz_more(&in); n++) {
        uint8_t op = fuzz_u8(&in);
        unsigned dev = (op >> 4) % NR_DEVS, len = 1u << (fuzz_u8(&in) % 3);
        bool is_write = op & 8;

        switch (op % 6) {
        case 0: /* configuration space, naturally aligned */
            mmio(config_at(dev, fuzz_u8(&in) & ~(len - 1)), fuzz_u32(&in), len, is_write);
            break;
        case 1: { /* BAR 0, any offset (a little past its end too) */
            uint64_t bar = bar0(dev);
            uint16_t off = fuzz_u16(&in) % (VIRTIO_PCI_BAR_SIZE + 16);

            mmio(bar ? bar + off : WINDOW + off, fuzz_u32(&in), len, is_write);
            break;
        }
        case 2: { /* the driver writes RAM (rings, buffers) */
            uint16_t at = fuzz_u16(&in) % RAM_SIZE;
            size_t n_bytes = fuzz_u8(&in) % 32;

            fuzz_bytes(&in, ram + at, MIN(n_bytes, RAM_SIZE - at));
            break;
        }
        case 3:
            driver_setup(&in, dev);
            break;
        case 4: { /* a kick at queue q's notify address, any width */
            uint64_t bar = bar0(dev);

            if (bar)
                mmio(bar + VIRTIO_PCI_NOTIFY_AT + 4 * (fuzz_u8(&in) % 4), 0, len, true);
            break;
        }
        default: /* let the workers run */
            g_thread_yield();
            break;
        }
        FUZZ_CHECK(fake_vm.stops == 0);
        for (unsigned d = 0; d < NR_DEVS; d++)
            check_registrations(&devs, d);
    }

    devices_destroy(&devs);
    FUZZ_CHECK(!vhost_running);               /* stopped before its rings went */
    iobus_destroy(&bus);
    free(ram);
    return 0;
}
