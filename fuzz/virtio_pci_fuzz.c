// fuzz-sources: src/devices/virtio_pci.c src/devices/virtio_console.c src/devices/virtio_rng.c
// fuzz-sources: src/devices/virtio_blk.c src/devices/virtio_vsock.c
// fuzz-sources: src/devices/pci.c src/devices/pci_host.c src/devices/aml.c src/devices/dt.c
// fuzz-sources: src/core/irq_routes.c src/arch/x86_64/irq_routes.c
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
 * When the setup byte says so the VM signals MSIs: the functions offer
 * MSI-X, and the VM's irq routing table (src/core/irq_routes.c, x86_64's
 * default routes, KVM's bound on entries sometimes small enough that
 * vectors run out of GSIs) sits on a fake KVM that keeps the table it was
 * last given and the irqfds bound to GSIs, and refuses KVM_SET_GSI_ROUTING,
 * KVM_IRQFD or KVM_SIGNAL_MSI when the script says. Ops then program the
 * MSI-X table, Message Control and the vectors, enable it all in one step,
 * and signal an offloaded queue's call eventfd as vhost would (KVM's when
 * bound: the irqfd's interrupt; else the worker relays it).
 *
 * Checked beyond ASan/UBSan: each device's notify registrations with
 * (fake) KVM are all of its queues or none, at BAR 0 + 0x3000 + 4n, and
 * there exactly while BAR 0 decodes inside the window (unless KVM refused:
 * it does, as the real one, for an address another device's BAR already
 * took); only existing ones are removed; the devices never stop the VM.
 * The fake vhost checks what virtio-vsock hands it: rings wholly inside
 * guest RAM, the RAM region as the memory table, no ring changed while
 * vhost runs, and vhost stopped by the time the device is gone.
 * Every routing table KVM is given fits its bound (entries and GSIs),
 * holds every default route, and its MSI routes have GSIs of their own and
 * the VM's MSI flags; only a vCPU (the script) sends one, never a worker
 * or the main thread (their seccomp lists have no KVM_SET_GSI_ROUTING).
 * Only the offloading function (vsock) has routes; each of its vectors'
 * GSIs is an MSI route of KVM's table carrying the message the transport
 * says, and KVM has no other MSI route. An irqfd is bound by a vCPU only,
 * to an existing MSI route, one eventfd at most once, and only existing
 * ones are unbound; after every step each binding is an offloaded queue's
 * call eventfd on its own vector's GSI while that vector delivers (MSI-X
 * on, neither function nor entry masked, bus mastering on), the route
 * carrying the entry's
 * current message, and the transport's call_bound says the same. While
 * the devices go no route changes and only workers unbind; what KVM still
 * holds then (until the VM's fd closes, as the ioeventfds) keeps its routes.
 */
#include <errno.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include "vmm/arch.h"
#include "vmm/device.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_rng.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/iobus.h"
#include "vmm/irq_routes.h"

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

/* KVM's irq routing, faked (setup bit 2 and 3): the table it was last
 * given, its bound on entries and GSIs (KVM_CAP_IRQ_ROUTING), the irqfds
 * bound to GSIs, and what it refuses now. The script's thread is the
 * vCPU; workers unbind too, so all of it is under kvm_lock (a leaf). */
#define KVM_ROUTES 4096                 /* x86 KVM's KVM_MAX_IRQ_ROUTES */
#define TABLE_MAX (64 + IRQ_ROUTES_MSI_MAX)
#define MAX_IRQFDS 16
#define MSI_ADDR 0xfee00000U
/* The MSI-X capability (PCI 3.0, 6.8.2): its ID, Message Control and bits. */
#define MSIX_CAP_ID 0x11
#define MSIX_CTRL 2
#define MSIX_CTRL_ENABLE 0x8000U
#define MSIX_CTRL_MASKALL 0x4000U
static GMutex kvm_lock;
static struct kvm_irq_routing_entry kvm_table[TABLE_MAX];
static unsigned kvm_nr, kvm_max;
static struct kvm_irq_routing_entry *defaults; /* arch_irq_default_routes(), x86_64's */
static unsigned nr_defaults;
static struct { int fd; uint32_t gsi; } irqfds[MAX_IRQFDS];
static unsigned nr_irqfds;
static uint8_t refuse_routing, refuse_irqfd; /* refusal patterns, a bit per call, repeating */
static int msi_result;                  /* KVM_SIGNAL_MSI's answer (atomic) */
static uint32_t msi_flags;
static GThread *vcpu;                   /* the script's thread */
static bool destroying;                 /* devices_destroy runs (on the "main" thread) */
static struct irq_routes routes;

/* The main thread's devices_destroy() calls this: its seccomp list has
 * none of KVM's routing ioctls. */
static bool main_thread_destroying(void)
{
    return __atomic_load_n(&destroying, __ATOMIC_ACQUIRE) && g_thread_self() == vcpu;
}

/* Whether KVM refuses this call: the pattern's low bit, then the pattern
 * turns by one (kvm_lock held). */
static bool refused(uint8_t *pattern)
{
    bool r = *pattern & 1;

    *pattern = (uint8_t)((*pattern >> 1) | (*pattern << 7));
    return r;
}

/* The MSI route KVM has for @gsi, or NULL (kvm_lock held). */
static const struct kvm_irq_routing_entry *msi_route(uint32_t gsi)
{
    for (unsigned i = 0; i < kvm_nr; i++)
        if (kvm_table[i].gsi == gsi)
            return kvm_table[i].type == KVM_IRQ_ROUTING_MSI ? &kvm_table[i] : NULL;
    return NULL;
}

/* The binding of eventfd @fd, or -1 (kvm_lock held). */
static int irqfd_of(int fd)
{
    for (unsigned i = 0; i < nr_irqfds; i++)
        if (irqfds[i].fd == fd)
            return (int)i;
    return -1;
}

static bool has_entry(const struct kvm_irq_routing *t, const struct kvm_irq_routing_entry *e)
{
    for (unsigned i = 0; i < t->nr; i++)
        if (!memcmp(&t->entries[i], e, sizeof(*e)))
            return true;
    return false;
}

static int fake_set_routing(int vm_fd, const struct kvm_irq_routing *t)
{
    FUZZ_CHECK(vm_fd == VM_FD);
    /* Only a vCPU's seccomp list has KVM_SET_GSI_ROUTING. */
    FUZZ_CHECK(g_thread_self() == vcpu && !main_thread_destroying());
    FUZZ_CHECK(t->flags == 0 && t->nr <= kvm_max && t->nr <= TABLE_MAX);
    for (unsigned i = 0; i < t->nr; i++) {
        const struct kvm_irq_routing_entry *e = &t->entries[i];

        FUZZ_CHECK(e->gsi < kvm_max);
        if (e->type != KVM_IRQ_ROUTING_MSI) {
            FUZZ_CHECK(e->type == KVM_IRQ_ROUTING_IRQCHIP);
            continue;
        }
        FUZZ_CHECK(e->flags == msi_flags);
        for (unsigned j = 0; j < t->nr; j++) /* KVM: a non-irqchip GSI has one route */
            FUZZ_CHECK(j == i || t->entries[j].gsi != e->gsi);
    }
    for (unsigned i = 0; i < nr_defaults; i++)
        FUZZ_CHECK(has_entry(t, &defaults[i]));
    g_mutex_lock(&kvm_lock);
    /* An irqfd never outlives its route: unbound before the route goes. */
    for (unsigned i = 0; i < nr_irqfds; i++) {
        bool kept = false;

        for (unsigned j = 0; j < t->nr; j++)
            kept |= t->entries[j].gsi == irqfds[i].gsi && t->entries[j].type == KVM_IRQ_ROUTING_MSI;
        FUZZ_CHECK(kept);
    }
    if (refused(&refuse_routing)) {
        g_mutex_unlock(&kvm_lock);
        return -ENOMEM;
    }
    kvm_nr = t->nr;
    memcpy(kvm_table, t->entries, t->nr * sizeof(*t->entries));
    g_mutex_unlock(&kvm_lock);
    return 0;
}

static int fake_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign)
{
    int i;
    uint64_t count;

    FUZZ_CHECK(vm_fd == VM_FD);
    g_mutex_lock(&kvm_lock);
    i = irqfd_of(fd);
    if (!assign) {
        /* Only existing ones go; the main thread's seccomp list has no
         * KVM_IRQFD (a worker's has: its reset unbinds). */
        FUZZ_CHECK(i >= 0 && irqfds[i].gsi == gsi);
        FUZZ_CHECK(!main_thread_destroying());
        irqfds[i] = irqfds[--nr_irqfds];
        g_mutex_unlock(&kvm_lock);
        return 0;
    }
    /* Bound by a register write, after its route exists; an eventfd
     * bound twice is KVM's EBUSY, which the transport never asks for. */
    FUZZ_CHECK(g_thread_self() == vcpu && !main_thread_destroying());
    FUZZ_CHECK(i < 0 && msi_route(gsi));
    if (refused(&refuse_irqfd)) {
        g_mutex_unlock(&kvm_lock);
        return -ENOMEM;
    }
    FUZZ_CHECK(nr_irqfds < MAX_IRQFDS);
    irqfds[nr_irqfds].fd = fd;
    irqfds[nr_irqfds++].gsi = gsi;
    /* A call counted before is KVM's at the binding (its interrupt). */
    (void)!read(fd, &count, sizeof(count));
    g_mutex_unlock(&kvm_lock);
    return 0;
}

static int fake_signal_msi(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags, uint32_t devid)
{
    FUZZ_CHECK(vm_fd == VM_FD && flags == msi_flags);
    FUZZ_CHECK(!main_thread_destroying());
    return __atomic_load_n(&msi_result, __ATOMIC_RELAXED);
}

/* vhost signals offloaded queue @q's call eventfd: KVM's interrupt when an
 * irqfd holds it (its route must be there), else the worker's to relay. */
static void backend_call(const struct virtio_pci *vp, unsigned q)
{
    int fd = vp->call_fd[q];

    if (fd < 0)
        return;
    g_mutex_lock(&kvm_lock);
    if (irqfd_of(fd) >= 0)
        FUZZ_CHECK(msi_route(irqfds[irqfd_of(fd)].gsi));
    else
        FUZZ_CHECK(eventfd_write(fd, 1) == 0);
    g_mutex_unlock(&kvm_lock);
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

/* Device @dev's transport (its state begins with one). */
static struct virtio_pci *transport(const struct device_set *devs, unsigned dev)
{
    return ((const struct device *)g_ptr_array_index(devs->devices, 1 + dev))->state;
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

static bool same_message(const struct kvm_irq_routing_entry *e,
                         const struct virtio_pci_msix_entry *m)
{
    return e && e->u.msi.address_lo == m->addr_lo && e->u.msi.address_hi == m->addr_hi &&
           e->u.msi.data == m->data;
}

/* MSI-X's routes and irqfds, as the transports and fake KVM hold them: only
 * the offloading function (vsock) has routes, each of its vectors' GSIs is
 * KVM's MSI route with the message the transport routed, and KVM has no
 * other; each irqfd is an offloaded queue's call eventfd on the GSI of its
 * vector while that delivers, the route carrying the entry's message, as
 * the transport's call_bound says. Every device lock, then KVM's: bindings
 * change under the device's (workers unbind at a reset). */
static void check_routes(const struct device_set *devs)
{
    struct virtio_pci *vps[NR_DEVS];
    unsigned routed = 0, bound = 0, msi_routes = 0;

    for (unsigned dev = 0; dev < NR_DEVS; dev++) {
        vps[dev] = transport(devs, dev);
        FUZZ_CHECK(!vps[dev]->routes || (dev == VSOCK_DEV && vps[dev]->routes == &routes));
        g_mutex_lock(&vps[dev]->lock);
    }
    g_mutex_lock(&kvm_lock);
    for (unsigned dev = 0; dev < NR_DEVS; dev++) {
        const struct virtio_pci *vp = vps[dev];

        for (unsigned v = 0; v < VIRTIO_PCI_MSIX_MAX; v++) {
            int gsi = vp->msix_gsi[v];

            if (gsi < 0)
                continue;
            FUZZ_CHECK(vp->routes && v < vp->msix_size);
            FUZZ_CHECK(same_message(msi_route((uint32_t)gsi), &vp->msix_routed[v]));
            FUZZ_CHECK(msi_route((uint32_t)gsi)->u.msi.devid == vp->msi_devid);
            for (unsigned w = 0; w < v; w++)
                FUZZ_CHECK(vp->msix_gsi[w] != gsi);
            routed++;
        }
        for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
            int v = __atomic_load_n(&vp->call_bound[q], __ATOMIC_RELAXED);
            int i = vp->call_fd[q] >= 0 ? irqfd_of(vp->call_fd[q]) : -1;

            if (v < 0) {
                FUZZ_CHECK(i < 0);
                continue;
            }
            FUZZ_CHECK(vp->routes && q < vp->model->nr_queues &&
                       (vp->model->offload->queues & (1U << q)));
            /* Bound only while its own vector delivers. */
            FUZZ_CHECK(v == vp->queue_vector[q] && (unsigned)v < vp->msix_size &&
                       vp->msix_enabled && !vp->msix_masked && vp->bus_master &&
                       !(vp->msix[v].ctrl & 1));
            FUZZ_CHECK(i >= 0 && (int)irqfds[i].gsi == vp->msix_gsi[v]);
            FUZZ_CHECK(same_message(msi_route(irqfds[i].gsi), &vp->msix[v]));
            bound++;
        }
    }
    for (unsigned i = 0; i < kvm_nr; i++)
        msi_routes += kvm_table[i].type == KVM_IRQ_ROUTING_MSI;
    FUZZ_CHECK(msi_routes == routed && nr_irqfds == bound);
    g_mutex_unlock(&kvm_lock);
    for (unsigned dev = NR_DEVS; dev > 0; dev--)
        g_mutex_unlock(&vps[dev - 1]->lock);
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

/* Where capability @id starts in @dev's configuration space (0: none),
 * found as a driver finds it. */
static unsigned find_cap(unsigned dev, uint8_t id)
{
    unsigned at = mmio(config_at(dev, PCI_CAPABILITY_LIST), 0, 1, false);

    for (unsigned n = 0; at && n < 48; n++) {
        if (mmio(config_at(dev, at), 0, 1, false) == id)
            return at;
        at = mmio(config_at(dev, at + 1), 0, 1, false);
    }
    return 0;
}

/* MSI-X's Message Control: enable (@how bit 0), function mask (bit 1),
 * written whole or as its high byte alone (bit 2). */
static void msix_control(unsigned dev, uint8_t how)
{
    unsigned cap = find_cap(dev, MSIX_CAP_ID);
    uint32_t ctrl;

    if (!cap)
        return;
    ctrl = mmio(config_at(dev, cap + MSIX_CTRL), 0, 2, false);
    ctrl &= ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
    ctrl |= (how & 1 ? MSIX_CTRL_ENABLE : 0) | (how & 2 ? MSIX_CTRL_MASKALL : 0);
    if (how & 4)
        mmio(config_at(dev, cap + MSIX_CTRL + 1), ctrl >> 8, 1, true);
    else
        mmio(config_at(dev, cap + MSIX_CTRL), ctrl, 2, true);
}

/* Field @field (address low, high, data, vector control) of table entry @v. */
static void msix_entry(unsigned dev, unsigned v, unsigned field, uint32_t val, bool is_write)
{
    uint64_t bar = bar0(dev);

    if (bar)
        mmio(bar + VIRTIO_PCI_MSIX_TABLE_AT + 16 * v + 4 * field, val, 4, is_write);
}

/* Queue @q's vector, or the configuration vector for @q past the queues. */
static void msix_vector(unsigned dev, unsigned q, uint16_t vector)
{
    if (q >= nr_queues[dev]) {
        common_write(dev, VIRTIO_PCI_COMMON_MSIX, vector, 2);
        return;
    }
    common_write(dev, VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
    common_write(dev, VIRTIO_PCI_COMMON_Q_MSIX, vector, 2);
}

/* The MSI-X shortcut: every entry programmed (those @unmasked names open),
 * each queue on its own vector (or all on vector 0), the configuration
 * change on the last, MSI-X enabled before or after the entries, the
 * function masked now and then. After driver_setup, whose reset clears
 * the vectors, vsock's call eventfds end up bound. */
static void msix_setup(struct fuzz_input *in, unsigned dev)
{
    uint8_t unmasked = fuzz_u8(in), how = fuzz_u8(in);
    uint8_t ctrl = 1 | ((how & 0x0a) == 0x0a ? 2 : 0);
    unsigned n = nr_queues[dev] + 1;

    mmio(config_at(dev, 0x04), 6, 2, true);    /* memory and bus master */
    if (how & 1)
        msix_control(dev, ctrl);
    for (unsigned v = 0; v < n; v++) {
        msix_entry(dev, v, 0, MSI_ADDR | (v << 12), true);
        msix_entry(dev, v, 1, 0, true);
        msix_entry(dev, v, 2, 0x30 + v + (how & 0xf0), true);
        msix_entry(dev, v, 3, !((unmasked >> v) & 1), true);
    }
    for (unsigned q = 0; q < nr_queues[dev]; q++)
        msix_vector(dev, q, how & 4 ? 0 : q);
    msix_vector(dev, nr_queues[dev], n - 1);
    if (!(how & 1))
        msix_control(dev, ctrl);
}

/* The ops of MSI-X and KVM's routing (op bytes 0xc0 and up: the earlier
 * ops, and the seeds' scripts, keep their bytes). */
static void msix_op(struct fuzz_input *in, const struct device_set *devs, unsigned dev,
                    unsigned kind, bool is_write)
{
    switch (kind) {
    case 0: { /* one table field, entries past the table too */
        unsigned v = fuzz_u8(in) % (VIRTIO_PCI_MSIX_MAX + 1), field = fuzz_u8(in) % 4;

        msix_entry(dev, v, field, fuzz_u32(in), is_write);
        break;
    }
    case 1:
        msix_control(dev, fuzz_u8(in));
        break;
    case 2: { /* a queue's or the configuration vector: any in the table, past it, none */
        unsigned q = fuzz_u8(in) % 5, v = fuzz_u8(in) % 11;

        msix_vector(dev, q, v == 10 ? VIRTIO_MSI_NO_VECTOR : v);
        break;
    }
    case 3:
    case 6:
        msix_setup(in, dev);
        break;
    case 4:
    case 7: /* vhost calls: vsock's receive or transmit queue (the event queue is the worker's) */
        backend_call(transport(devs, VSOCK_DEV), fuzz_u8(in) % 3);
        break;
    default: { /* what KVM refuses from now on: the routing tables and bindings
                * a pattern names (0xff: all, 0x55: every other), any MSI */
        uint8_t routing = fuzz_u8(in), irqfd = fuzz_u8(in), msi = fuzz_u8(in);

        g_mutex_lock(&kvm_lock);
        refuse_routing = routing;
        refuse_irqfd = irqfd;
        g_mutex_unlock(&kvm_lock);
        __atomic_store_n(&msi_result, msi & 1 ? -EINVAL : (msi & 2 ? 0 : 1), __ATOMIC_RELAXED);
        break;
    }
    }
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
    /* MSIs (bit 2), over a routing table KVM's routes started (bit 3: else
     * every route is refused, as when vm.c could not start it), KVM's bound
     * small enough (bit 4) for 1 to 4 routes (bits 5-6), the MSIs with a
     * device ID (bit 7, as aarch64's ITS). */
    if (!defaults)
        defaults = arch_irq_default_routes(NULL, &nr_defaults, NULL);
    vcpu = g_thread_self();
    kvm_nr = nr_irqfds = 0;
    refuse_routing = refuse_irqfd = 0;
    msi_result = 1;
    msi_flags = setup & 0x80 ? KVM_MSI_VALID_DEVID : 0;
    kvm_max = setup & 0x10 ? nr_defaults + 1 + ((setup >> 5) & 3) : KVM_ROUTES;
    irq_routes_kvm_set = fake_set_routing;
    irq_routes_kvm_irqfd = fake_irqfd;
    virtio_pci_signal_msi = fake_signal_msi;
    irq_routes_init(&routes);
    if (setup & 8)
        FUZZ_CHECK(irq_routes_start(&routes, VM_FD, defaults, nr_defaults, kvm_max, NULL));
    ctx.msi = setup & 4;
    ctx.msi_flags = msi_flags;
    ctx.routes = ctx.msi ? &routes : NULL;
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

        if (op >= 0xc0)
            msix_op(&in, &devs, dev, op & 7, is_write);
        else switch (op % 6) {
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
        check_routes(&devs);
    }

    __atomic_store_n(&destroying, true, __ATOMIC_RELEASE);
    devices_destroy(&devs);
    __atomic_store_n(&destroying, false, __ATOMIC_RELEASE);
    FUZZ_CHECK(!vhost_running);               /* stopped before its rings went */
    /* What KVM still holds of the devices' stays until the VM's fd closes
     * (the main thread cannot unbind): never an irqfd without its route. */
    for (unsigned i = 0; i < nr_irqfds; i++)
        FUZZ_CHECK(msi_route(irqfds[i].gsi));
    irq_routes_clear(&routes);
    iobus_destroy(&bus);
    free(ram);
    return 0;
}
