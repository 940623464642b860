/*
 * The virtio PCI transport (vmm/hw/virtio_pci.h). BAR 0 holds the four
 * structures the vendor capabilities point at; registers follow the
 * virtio 1.x specification, section 4.1.4, little-endian.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + the virtio device ID */
#define COMMON_SIZE 0x38              /* struct virtio_pci_common_cfg of virtio 1.0 */
#define NO_VECTOR 0xffff              /* VIRTIO_MSI_NO_VECTOR: no MSI-X */
#define ISR_QUEUE 0x1
/* The MSI-X capability (PCI 3.0, 6.8.2): ID, Message Control, where the
 * table and the PBA are (offset | BAR). */
#define PCI_CAP_ID_MSIX 0x11
#define MSIX_CAP_LEN 12
#define MSIX_CTRL 2
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_TABLE 4
#define MSIX_PBA 8
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_MASKED 0x1
/* What the transport itself offers: version 1, indirect descriptors and
 * event index (src/virtio/virtqueue.c handles both). */
#define TRANSPORT_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
                            (1ULL << VIRTIO_RING_F_EVENT_IDX))

static uint64_t device_features(const struct virtio_pci *vp)
{
    return vp->model->features | TRANSPORT_FEATURES;
}

static bool offloaded(const struct virtio_pci *vp, unsigned q)
{
    return vp->model->offload && (vp->model->offload->queues & (1U << q));
}

/* Wakes the worker (an eventfd write never blocks: it only fails near
 * 2^64, and then the worker is awake anyway). */
static void wake(struct virtio_pci *vp, int fd)
{
    uint64_t one = 1;

    if (write(fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        vmm_log("%s: waking its worker: %s", vp->model->name, g_strerror(errno));
}

/* With MSI-X on, INTx stays low whatever the ISR holds (PCI 3.0, 6.8.2). */
static void update_irq(struct virtio_pci *vp)
{
    if (vp->irq_wired)
        irq_line_set(&vp->irq, vp->isr != 0 && !vp->msix_enabled);
}

static int kvm_signal_msi(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags,
                          uint32_t devid)
{
    struct kvm_msi msi = {
        .address_lo = (uint32_t)addr, .address_hi = addr >> 32, .data = data,
        .flags = flags, .devid = devid,
    };

    return __vmm_ioctl(vm_fd, KVM_SIGNAL_MSI, &msi);
}

int (*virtio_pci_signal_msi)(int vm_fd, uint64_t addr, uint32_t data, uint32_t flags,
                             uint32_t devid) = kvm_signal_msi;

/* Sends vector @v's message now (lock held). */
static void msix_send(struct virtio_pci *vp, unsigned v)
{
    const struct virtio_pci_msix_entry *e = &vp->msix[v];
    int r = virtio_pci_signal_msi(vp->vm_fd, ((uint64_t)e->addr_hi << 32) | e->addr_lo, e->data,
                                  vp->msi_flags, vp->msi_devid);

    /* 0: the guest's own interrupt controller blocked it, its business. */
    if (r < 0 && !vp->msi_refused) {
        vmm_log("%s: KVM_SIGNAL_MSI: %s; this interrupt is lost (logged once)",
                vp->model->name, g_strerror(-r));
        vp->msi_refused = true;
    }
}

/* Vector @v would deliver now: MSI-X on, neither it nor the function
 * masked, bus mastering on. */
static bool vector_open(const struct virtio_pci *vp, unsigned v)
{
    return vp->msix_enabled && !vp->msix_masked && vp->bus_master && v < vp->msix_size &&
           !(vp->msix[v].ctrl & MSIX_ENTRY_MASKED);
}

/* Vector @v fires (lock held): its message now, or its pending bit while
 * it does not deliver (vector_open). NO_VECTOR, or any vector outside
 * the table, sends nothing (spec 4.1.4.3: the event has no vector). */
static void msix_fire(struct virtio_pci *vp, unsigned v)
{
    if (v >= vp->msix_size)
        return;
    if (vector_open(vp, v))
        msix_send(vp, v);
    else
        vp->msix_pending |= 1U << v;
}

/* What was pending and is unmasked now goes out (lock held). */
static void msix_deliver_pending(struct virtio_pci *vp)
{
    for (unsigned v = 0; v < vp->msix_size; v++) {
        if (!(vp->msix_pending & (1U << v)) || !vector_open(vp, v))
            continue;
        vp->msix_pending &= ~(1U << v);
        msix_send(vp, v);
    }
}

/* The vector offloaded queue @q's call eventfd should be bound to: its
 * own, while that delivers and has a route; -1 otherwise. */
static int call_target(const struct virtio_pci *vp, unsigned q)
{
    unsigned v = vp->queue_vector[q];

    return vector_open(vp, v) && vp->msix_gsi[v] >= 0 ? (int)v : -1;
}

static void unbind_call(struct virtio_pci *vp, unsigned q)
{
    int v = vp->call_bound[q];
    int r = irq_routes_irqfd(vp->routes, vp->call_fd[q], (uint32_t)vp->msix_gsi[v], false);

    /* It can only fail if KVM has no such binding: unbound either way. */
    if (r < 0)
        vmm_log("%s: KVM_IRQFD unbinding queue %u: %s", vp->model->name, q, g_strerror(-r));
    __atomic_store_n(&vp->call_bound[q], -1, __ATOMIC_RELEASE);
}

/* Unbinds each offloaded queue's call eventfd from a vector it should no
 * longer reach (lock held) and wakes the worker to poll it: a call from
 * now on stays in the eventfd's count until the worker reads it and
 * raises the interrupt (the pending bit while masked), none is lost. A
 * call KVM took just before is the guest's, as it would have been a
 * moment earlier. Only KVM_IRQFD: the worker's reset may come here. */
static void unbind_stale_calls(struct virtio_pci *vp)
{
    bool woke = false;

    for (unsigned q = 0; vp->routes && q < vp->model->nr_queues; q++) {
        if (vp->call_bound[q] < 0 || vp->call_bound[q] == call_target(vp, q))
            continue;
        unbind_call(vp, q);
        if (!woke)
            wake(vp, vp->kick_fd);
        woke = true;
    }
}

static void route_failed(struct virtio_pci *vp, unsigned v, const char *what, int r)
{
    if (vp->route_failed)
        return;
    vp->route_failed = true;
    vmm_log("%s: MSI-X vector %u: %s: %s; its backend's interrupts go through vmm "
            "(KVM_SIGNAL_MSI; logged once)", vp->model->name, v, what,
            r == -ENOSPC ? "no GSI left in KVM's routing table" : g_strerror(-r));
}

/* Vector @v's route carries its entry's message: not so when KVM refused
 * both the route's update and its removal (sync_route), and then no call
 * eventfd may be bound there: the old message would reach the guest. */
static bool route_current(const struct virtio_pci *vp, unsigned v)
{
    const struct virtio_pci_msix_entry *e = &vp->msix[v], *was = &vp->msix_routed[v];

    return was->addr_lo == e->addr_lo && was->addr_hi == e->addr_hi && was->data == e->data;
}

/* Vector @v's route follows its entry (lock held): a GSI with its
 * message while it delivers, none otherwise (after unbind_stale_calls). */
static void sync_route(struct virtio_pci *vp, unsigned v)
{
    const struct virtio_pci_msix_entry *e = &vp->msix[v];
    uint64_t addr = ((uint64_t)e->addr_hi << 32) | e->addr_lo;
    struct virtio_pci_msix_entry *was = &vp->msix_routed[v];
    int r;

    if (!vector_open(vp, v)) {
        if (vp->msix_gsi[v] >= 0 && irq_routes_remove(vp->routes, vp->msix_gsi[v]) == 0)
            vp->msix_gsi[v] = -1;
        return;
    }
    if (vp->msix_gsi[v] < 0) {
        r = irq_routes_add_msi(vp->routes, addr, e->data, vp->msi_flags, vp->msi_devid);
        if (r < 0) {
            route_failed(vp, v, "no route", r);
            return;
        }
        vp->msix_gsi[v] = r;
    } else if (!route_current(vp, v)) {
        r = irq_routes_update_msi(vp->routes, vp->msix_gsi[v], addr, e->data, vp->msi_flags,
                                  vp->msi_devid);
        if (r < 0) {
            /* The old message must not reach the guest: back to the worker. */
            route_failed(vp, v, "changing its route", r);
            for (unsigned q = 0; q < vp->model->nr_queues; q++)
                if (vp->call_bound[q] == (int)v)
                    unbind_call(vp, q);
            wake(vp, vp->kick_fd);
            if (irq_routes_remove(vp->routes, vp->msix_gsi[v]) == 0)
                vp->msix_gsi[v] = -1;
            return;
        }
    }
    *was = *e;
}

/* MSI-X's state changed (lock held, a vCPU thread: it may change the
 * table): routes and irqfd bindings follow what the guest wrote. Unbind
 * before a route goes, bind after it exists and carries its message. */
static void sync_routes(struct virtio_pci *vp)
{
    if (!vp->routes)
        return;
    unbind_stale_calls(vp);
    for (unsigned v = 0; v < vp->msix_size; v++)
        sync_route(vp, v);
    for (unsigned q = 0; q < vp->model->nr_queues; q++) {
        int v = call_target(vp, q), r;

        if (!offloaded(vp, q) || v < 0 || vp->call_bound[q] >= 0 || !route_current(vp, v))
            continue;
        r = irq_routes_irqfd(vp->routes, vp->call_fd[q], (uint32_t)vp->msix_gsi[v], true);
        if (r < 0) {
            if (!vp->irqfd_failed)
                vmm_log("%s: KVM_IRQFD for queue %u: %s; its backend's interrupts go "
                        "through vmm (logged once)", vp->model->name, q, g_strerror(-r));
            vp->irqfd_failed = true;
            continue;
        }
        /* A call already counted is raised by KVM at the binding. */
        __atomic_store_n(&vp->call_bound[q], v, __ATOMIC_RELEASE);
        vp->irqfd_binds++;
        wake(vp, vp->kick_fd); /* the worker stops polling it */
    }
}

/* A used-buffer notification for queue @q: its vector with MSI-X (no ISR
 * bit then, spec 4.1.4.5), else the ISR's queue bit and INTx. */
static void queue_interrupt(struct virtio_pci *vp, unsigned q)
{
    if (vp->msix_enabled) {
        msix_fire(vp, vp->queue_vector[q]);
        return;
    }
    vp->isr |= ISR_QUEUE;
    update_irq(vp);
}

/* A configuration change: the ISR's bit in either case (spec 4.1.4.5),
 * and the configuration vector with MSI-X. */
static void config_interrupt(struct virtio_pci *vp)
{
    vp->isr |= VIRTIO_PCI_ISR_CONFIG;
    if (vp->msix_enabled)
        msix_fire(vp, vp->config_vector);
    else
        update_irq(vp);
}

static void reset(struct virtio_pci *vp)
{
    vp->driver_features = 0;
    vp->device_feature_select = vp->driver_feature_select = 0;
    vp->status = 0;
    vp->queue_select = 0;
    vp->isr = 0;
    /* The vectors are the driver's choice, like the queues; the MSI-X
     * table and its enable bits are the PCI function's and stay. */
    vp->config_vector = NO_VECTOR;
    for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
        vp->queue_vector[i] = NO_VECTOR;
    for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
        struct virtio_pci_queue *q = &vp->queues[i];

        virtq_reset(&q->vq);
        *q = (struct virtio_pci_queue){ .size = VIRTIO_PCI_QUEUE_MAX_SIZE };
    }
    __atomic_store_n(&vp->pending, 0, __ATOMIC_RELAXED);
    vp->offload_start = vp->offload_reset = false;
    if (vp->model->reset)
        vp->model->reset(vp);
    unbind_stale_calls(vp); /* their vectors are gone; the routes stay the function's */
    update_irq(vp);
}

/* The device stops until the driver resets it: the driver learns it
 * through DEVICE_NEEDS_RESET and a configuration interrupt (spec 2.1.2).
 * Logged the first time in the device's life only: a guest that breaks
 * its queues in a loop costs no log lines; vp->breaks counts them. */
static bool stop_until_reset(struct virtio_pci *vp)
{
    if (vp->status & VIRTIO_CONFIG_S_NEEDS_RESET)
        return false;
    vp->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    config_interrupt(vp);
    return !vp->breaks++;
}

/* A queue broke. */
static void needs_reset(struct virtio_pci *vp, unsigned q, const char *why)
{
    if (stop_until_reset(vp))
        vmm_log("%s: the driver broke queue %u (%s); the device waits for a reset "
                "(logged once)", vp->model->name, q, why);
}

/* The device may use queue @q's rings now (bus mastering among it). */
static bool queue_live(const struct virtio_pci *vp, unsigned q)
{
    return q < vp->model->nr_queues && vp->queues[q].enabled && vp->bus_master &&
           (vp->status & VIRTIO_CONFIG_S_DRIVER_OK) && !(vp->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

bool virtio_pci_pop(struct virtio_pci *vp, unsigned q, struct virtq_chain *chain)
{
    struct virtq *vq = &vp->queues[q].vq;

    if (!queue_live(vp, q))
        return false;
    switch (virtq_pop(vq, chain)) {
    case VIRTQ_CHAIN:
        return true;
    case VIRTQ_BROKEN:
        needs_reset(vp, q, vq->broken_why);
        return false;
    default:
        return false;
    }
}

void virtio_pci_push(struct virtio_pci *vp, unsigned q, const struct virtq_chain *chain,
                     uint32_t written)
{
    if (queue_live(vp, q))
        virtq_push(&vp->queues[q].vq, chain, written);
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned q)
{
    if (queue_live(vp, q) && virtq_should_notify(&vp->queues[q].vq))
        queue_interrupt(vp, q);
}

bool virtio_pci_serve(struct virtio_pci *vp, unsigned q,
                      uint32_t (*handle)(struct virtio_pci *vp, const struct virtq_chain *chain))
{
    unsigned n = 0;

    while (n < VIRTIO_PCI_CHAINS_PER_PASS && virtio_pci_pop(vp, q, &vp->chain)) {
        virtio_pci_push(vp, q, &vp->chain, handle(vp, &vp->chain));
        n++;
    }
    if (n)
        virtio_pci_notify(vp, q);
    if (n < VIRTIO_PCI_CHAINS_PER_PASS)
        return true;
    virtio_pci_kick(vp, q);
    return false;
}

static void enable_queue(struct virtio_pci *vp, unsigned q)
{
    struct virtio_pci_queue *vq = &vp->queues[q];
    g_autoptr(GError) err = NULL;
    bool event_idx = vp->driver_features & (1ULL << VIRTIO_RING_F_EVENT_IDX);

    if (!virtq_setup(&vq->vq, vp->mem, vq->size, vq->desc, vq->driver, vq->device, event_idx,
                     &err)) {
        needs_reset(vp, q, err->message);
        return;
    }
    vq->enabled = true;
    if (offloaded(vp, q))
        return; /* the ring's device half is the backend's */
    /* The device's half of the kick protocol starts on (avail_event 0, no
     * NO_NOTIFY flag) whatever the driver left in the used ring's memory. */
    virtq_enable_notify(&vq->vq);
}

static void set_status(struct virtio_pci *vp, uint8_t status)
{
    if (status == 0) {
        if (!vp->offload_running) {
            reset(vp);
            return;
        }
        vp->offload_reset = true;
        wake(vp, vp->kick_fd);
        return;
    }
    /* FEATURES_OK sticks only for features we offered, version 1 among them. */
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        ((vp->driver_features & ~device_features(vp)) ||
         !(vp->driver_features & (1ULL << VIRTIO_F_VERSION_1))))
        status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    /* The device sets NEEDS_RESET; the driver cannot clear it but by reset. */
    if (vp->model->offload && (status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(vp->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
        vp->offload_start = true;
        wake(vp, vp->kick_fd);
    }
    vp->status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) |
                 (vp->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

static uint64_t set_half(uint64_t v, bool high, uint32_t half)
{
    return high ? (v & 0xffffffffULL) | ((uint64_t)half << 32)
                : (v & ~0xffffffffULL) | half;
}

static void common_write(struct virtio_pci *vp, unsigned off, uint32_t v)
{
    struct virtio_pci_queue *q =
        vp->queue_select < vp->model->nr_queues ? &vp->queues[vp->queue_select] : NULL;
    bool before_features_ok = !(vp->status & VIRTIO_CONFIG_S_FEATURES_OK);

    if (vp->offload_reset)
        return; /* still resetting: the worker is stopping the backend */
    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: vp->device_feature_select = v; break;
    case VIRTIO_PCI_COMMON_GFSELECT: vp->driver_feature_select = v; break;
    case VIRTIO_PCI_COMMON_GF:
        if (before_features_ok && vp->driver_feature_select < 2)
            vp->driver_features = set_half(vp->driver_features, vp->driver_feature_select, v);
        break;
    case VIRTIO_PCI_COMMON_STATUS: set_status(vp, v); break;
    case VIRTIO_PCI_COMMON_Q_SELECT: vp->queue_select = v; break;
    /* A vector outside the table maps nothing, and reads back NO_VECTOR:
     * how the driver learns it failed (spec 4.1.5.1.2). */
    case VIRTIO_PCI_COMMON_MSIX: vp->config_vector = v < vp->msix_size ? v : NO_VECTOR; break;
    case VIRTIO_PCI_COMMON_Q_MSIX:
        if (q) {
            vp->queue_vector[vp->queue_select] = v < vp->msix_size ? v : NO_VECTOR;
            sync_routes(vp);
        }
        break;
    default:
        /* Queue fields change only while the queue is off (spec 4.1.4.3.2). */
        if (!q || q->enabled)
            break;
        switch (off) {
        case VIRTIO_PCI_COMMON_Q_SIZE:
            if (v && !(v & (v - 1)) && v <= VIRTIO_PCI_QUEUE_MAX_SIZE)
                q->size = v;
            break;
        case VIRTIO_PCI_COMMON_Q_ENABLE:
            if (v == 1)
                enable_queue(vp, vp->queue_select);
            break;
        case VIRTIO_PCI_COMMON_Q_DESCLO: case VIRTIO_PCI_COMMON_Q_DESCHI:
            q->desc = set_half(q->desc, off == VIRTIO_PCI_COMMON_Q_DESCHI, v);
            break;
        case VIRTIO_PCI_COMMON_Q_AVAILLO: case VIRTIO_PCI_COMMON_Q_AVAILHI:
            q->driver = set_half(q->driver, off == VIRTIO_PCI_COMMON_Q_AVAILHI, v);
            break;
        case VIRTIO_PCI_COMMON_Q_USEDLO: case VIRTIO_PCI_COMMON_Q_USEDHI:
            q->device = set_half(q->device, off == VIRTIO_PCI_COMMON_Q_USEDHI, v);
            break;
        }
    }
}

static uint32_t common_read(struct virtio_pci *vp, unsigned off)
{
    const struct virtio_pci_queue *q =
        vp->queue_select < vp->model->nr_queues ? &vp->queues[vp->queue_select] : NULL;

    switch (off) {
    case VIRTIO_PCI_COMMON_DFSELECT: return vp->device_feature_select;
    case VIRTIO_PCI_COMMON_DF:
        return vp->device_feature_select < 2
                   ? (uint32_t)(device_features(vp) >> (32 * vp->device_feature_select)) : 0;
    case VIRTIO_PCI_COMMON_GFSELECT: return vp->driver_feature_select;
    case VIRTIO_PCI_COMMON_GF:
        return vp->driver_feature_select < 2
                   ? (uint32_t)(vp->driver_features >> (32 * vp->driver_feature_select)) : 0;
    case VIRTIO_PCI_COMMON_MSIX: return vp->config_vector;
    case VIRTIO_PCI_COMMON_NUMQ: return vp->model->nr_queues;
    case VIRTIO_PCI_COMMON_STATUS: return vp->status;
    case VIRTIO_PCI_COMMON_CFGGENERATION: return vp->config_generation;
    case VIRTIO_PCI_COMMON_Q_SELECT: return vp->queue_select;
    }
    if (!q)
        return off == VIRTIO_PCI_COMMON_Q_MSIX ? NO_VECTOR : 0; /* queue_size 0: none */
    switch (off) {
    case VIRTIO_PCI_COMMON_Q_SIZE: return q->size;
    case VIRTIO_PCI_COMMON_Q_MSIX: return vp->queue_vector[vp->queue_select];
    case VIRTIO_PCI_COMMON_Q_ENABLE: return q->enabled;
    case VIRTIO_PCI_COMMON_Q_NOFF: return vp->queue_select;
    case VIRTIO_PCI_COMMON_Q_DESCLO: return (uint32_t)q->desc;
    case VIRTIO_PCI_COMMON_Q_DESCHI: return q->desc >> 32;
    case VIRTIO_PCI_COMMON_Q_AVAILLO: return (uint32_t)q->driver;
    case VIRTIO_PCI_COMMON_Q_AVAILHI: return q->driver >> 32;
    case VIRTIO_PCI_COMMON_Q_USEDLO: return (uint32_t)q->device;
    case VIRTIO_PCI_COMMON_Q_USEDHI: return q->device >> 32;
    }
    return 0;
}

/* Each common register has one width (1, 2 or 4 bytes) and starts at its
 * offset; an access of another width or offset reads 0 and writes nothing. */
static unsigned common_width(unsigned off)
{
    switch (off) {
    case VIRTIO_PCI_COMMON_STATUS: case VIRTIO_PCI_COMMON_CFGGENERATION:
        return 1;
    case VIRTIO_PCI_COMMON_MSIX: case VIRTIO_PCI_COMMON_NUMQ: case VIRTIO_PCI_COMMON_Q_SELECT:
    case VIRTIO_PCI_COMMON_Q_SIZE: case VIRTIO_PCI_COMMON_Q_MSIX: case VIRTIO_PCI_COMMON_Q_ENABLE:
    case VIRTIO_PCI_COMMON_Q_NOFF:
        return 2;
    default:
        return off < COMMON_SIZE && off % 4 == 0 ? 4 : 0;
    }
}

void virtio_pci_kick(struct virtio_pci *vp, unsigned q)
{
    if (q >= vp->model->nr_queues)
        return;
    if (offloaded(vp, q)) {
        wake(vp, vp->queue_fd[q]); /* what KVM's ioeventfd would have done */
        return;
    }
    __atomic_or_fetch(&vp->pending, 1U << q, __ATOMIC_RELEASE);
    wake(vp, vp->kick_fd);
}

/* The MSI-X table: one field of an entry (its offset in the table @off,
 * dword aligned); entries past the table read 0 and write nothing. An address or data change of an unmasked
 * entry takes effect at its next message (the PCI spec leaves that
 * undefined: no driver does it). Unmasking sends what is pending. */
static uint32_t msix_table_access(struct virtio_pci *vp, uint64_t off, uint32_t v, bool is_write)
{
    uint64_t n = off / MSIX_ENTRY_SIZE;
    struct virtio_pci_msix_entry *e;
    uint32_t *field;

    if (n >= vp->msix_size)
        return 0;
    e = &vp->msix[n];
    switch (off % MSIX_ENTRY_SIZE) {
    case 0: field = &e->addr_lo; break;
    case 4: field = &e->addr_hi; break;
    case 8: field = &e->data; break;
    default:
        if (!is_write)
            return e->ctrl;
        e->ctrl = v & MSIX_ENTRY_MASKED;
        sync_routes(vp);
        msix_deliver_pending(vp);
        return 0;
    }
    if (is_write) {
        *field = v;
        sync_routes(vp); /* an unmasked entry's route carries the new message */
    }
    return *field;
}

/* One aligned dword of the table or the PBA (lock held). */
static uint32_t msix_dword(struct virtio_pci *vp, uint64_t offset, uint32_t v, bool is_write)
{
    if (offset < VIRTIO_PCI_MSIX_PBA_AT)
        return msix_table_access(vp, offset - VIRTIO_PCI_MSIX_TABLE_AT, v, is_write);
    return offset == VIRTIO_PCI_MSIX_PBA_AT ? vp->msix_pending : 0; /* read-only */
}

/* Aligned dwords, and aligned qwords as two of them (PCI 3.0 allows both). */
static void msix_access(struct virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned len,
                        bool is_write)
{
    uint32_t v[2] = { 0, 0 };

    if ((len == 4 || len == 8) && offset % len == 0) {
        if (is_write)
            memcpy(v, data, len);
        g_mutex_lock(&vp->lock);
        for (unsigned i = 0; i < len / 4; i++)
            v[i] = msix_dword(vp, offset + 4 * i, v[i], is_write);
        g_mutex_unlock(&vp->lock);
    }
    if (!is_write) {
        memset(data, 0, len);
        memcpy(data, v, MIN(len, 8u));
    }
}

void virtio_pci_bar_access(struct virtio_pci *vp, uint64_t offset, uint8_t *data, unsigned len,
                           bool is_write)
{
    uint32_t v = 0;

    if (offset >= VIRTIO_PCI_MSIX_TABLE_AT) {
        msix_access(vp, offset, data, len, is_write);
        return;
    }
    if (offset >= VIRTIO_PCI_NOTIFY_AT) {
        /* The queue index (or anything) written at queue n's address. */
        if (is_write && len <= 4 && (offset - VIRTIO_PCI_NOTIFY_AT) % VIRTIO_PCI_NOTIFY_MULTIPLIER == 0)
            virtio_pci_kick(vp, (offset - VIRTIO_PCI_NOTIFY_AT) / VIRTIO_PCI_NOTIFY_MULTIPLIER);
        else if (!is_write)
            memset(data, 0, len);
        return;
    }
    if (is_write)
        memcpy(&v, data, MIN(len, 4u));
    g_mutex_lock(&vp->lock);
    if (offset < VIRTIO_PCI_COMMON_AT + COMMON_SIZE) {
        bool ok = common_width(offset) == len;

        if (is_write && ok)
            common_write(vp, offset, v);
        else if (!is_write)
            v = ok ? common_read(vp, offset) : 0;
    } else if (offset == VIRTIO_PCI_ISR_AT && !is_write) {
        /* Reading the ISR clears it and lowers the line. */
        v = vp->isr;
        vp->isr = 0;
        update_irq(vp);
    } else if (offset >= VIRTIO_PCI_DEVICE_AT &&
               offset - VIRTIO_PCI_DEVICE_AT < vp->model->config_size && !is_write) {
        unsigned at = offset - VIRTIO_PCI_DEVICE_AT;
        unsigned n = MIN(len, (unsigned)(vp->model->config_size - at));

        memcpy(&v, vp->config + at, MIN(n, 4u));
    }
    g_mutex_unlock(&vp->lock);
    if (!is_write) {
        memset(data, 0, len);
        memcpy(data, &v, MIN(len, 4u));
    }
}

static void bar_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    virtio_pci_bar_access(opaque, offset, data, len, is_write);
}

/* One pass of the model over queue @q (lock held), with the driver's
 * kicks off while it runs. When the model took all the queue held, kicks
 * go back on for the next buffer: with event index that moves avail_event
 * on, and a driver kicks only for the entry it names, so a device that
 * never moved it would hear of the first buffer and no other. A buffer
 * the driver added while kicks were off (it did not kick for it) gets
 * another pass rather than a wait for a kick that never comes. A model
 * that left buffers (it stopped early and kicked itself, or it keeps
 * them, as a receive queue with nothing to receive) wants no kicks now. */
static void run_queue(struct virtio_pci *vp, unsigned q)
{
    struct virtq *vq = &vp->queues[q].vq;

    virtq_disable_notify(vq);
    if (vp->model->queue_notified(vp, q) && queue_live(vp, q) && virtq_enable_notify(vq))
        virtio_pci_kick(vp, q);
}

/* Waits for the worker's eventfd, a queue's (KVM's kicks) or, for an
 * offloaded queue, the backend's call; the queues kicked join the pending
 * ones, and the calls are returned. False when poll fails for good. */
static bool wait_for_kicks(struct virtio_pci *vp, unsigned *calls)
{
    struct pollfd p[1 + VIRTIO_PCI_MAX_QUEUES];
    unsigned n = vp->model->nr_queues;
    uint64_t count;

    *calls = 0;
    p[0] = (struct pollfd){ .fd = vp->kick_fd, .events = POLLIN };
    /* An offloaded queue's kicks are the backend's to read, and its calls
     * KVM's while bound to an irqfd (poll skips a negative fd). Whoever
     * changes a binding wakes this thread to look again. */
    for (unsigned q = 0; q < n; q++) {
        int fd = vp->queue_fd[q];

        if (offloaded(vp, q))
            fd = __atomic_load_n(&vp->call_bound[q], __ATOMIC_ACQUIRE) < 0 ? vp->call_fd[q] : -1;
        p[1 + q] = (struct pollfd){ .fd = fd, .events = POLLIN };
    }
    if (poll(p, 1 + n, -1) < 0)
        return errno == EINTR;
    if (p[0].revents & POLLIN)
        (void)!read(vp->kick_fd, &count, sizeof(count));
    for (unsigned q = 0; q < n; q++) {
        if (!(p[1 + q].revents & POLLIN) || read(p[1 + q].fd, &count, sizeof(count)) <= 0)
            continue;
        if (offloaded(vp, q))
            *calls |= 1U << q;
        else
            __atomic_or_fetch(&vp->pending, 1U << q, __ATOMIC_RELEASE);
    }
    return true;
}

/* The driver's DRIVER_OK reaches the backend (lock held). */
static void offload_start(struct virtio_pci *vp)
{
    struct virtio_pci_offload_queue qs[VIRTIO_PCI_MAX_QUEUES] = { 0 };
    g_autoptr(GError) err = NULL;
    unsigned n = 0;

    vp->offload_start = false;
    /* Started once per reset, however often the driver toggles DRIVER_OK. */
    if (vp->offload_running || !(vp->status & VIRTIO_CONFIG_S_DRIVER_OK) ||
        (vp->status & VIRTIO_CONFIG_S_NEEDS_RESET) || !vp->bus_master)
        return; /* without bus mastering: when the driver sets it */
    for (unsigned q = 0; q < vp->model->nr_queues; q++) {
        const struct virtio_pci_queue *vq = &vp->queues[q];

        if (!offloaded(vp, q) || !vq->enabled)
            continue;
        qs[n++] = (struct virtio_pci_offload_queue){
            .index = q, .size = vq->size, .desc = vq->desc, .driver = vq->driver,
            .device = vq->device, .desc_hva = vq->vq.desc, .driver_hva = vq->vq.avail,
            .device_hva = vq->vq.used, .kick_fd = vp->queue_fd[q], .call_fd = vp->call_fd[q],
        };
    }
    if (vp->model->offload->start(vp, vp->driver_features, qs, n, &err))
        vp->offload_running = true;
    else if (stop_until_reset(vp))
        vmm_log("%s: its backend did not start: %s; the device waits for a reset "
                "(logged once)", vp->model->name, err->message);
}

/* What the worker owes an offloading model (lock held): a start, or the
 * stop a driver's reset waits for. */
static void offload_work(struct virtio_pci *vp, unsigned calls)
{
    if (vp->offload_reset) {
        if (vp->offload_running)
            vp->model->offload->stop(vp);
        vp->offload_running = false;
        reset(vp);
        return;
    }
    if (vp->offload_start)
        offload_start(vp);
    /* The backend decided the driver wants this interrupt (event index
     * and NO_INTERRUPT are its business). */
    for (unsigned q = 0; q < vp->model->nr_queues; q++) {
        if (!(calls & (1U << q)))
            continue;
        vp->relayed_calls++;
        if (vp->offload_running && !(vp->status & VIRTIO_CONFIG_S_NEEDS_RESET))
            queue_interrupt(vp, q);
    }
}

static gpointer worker(gpointer opaque)
{
    struct virtio_pci *vp = opaque;
    enum vmm_thread_kind kind = vp->model->thread_kind ? vp->model->thread_kind
                                                       : VMM_THREAD_DEVICE;

    while (!__atomic_load_n(&vp->stopping, __ATOMIC_ACQUIRE)) {
        unsigned pending, calls;

        vmm_seccomp_adopt(kind);
        if (!wait_for_kicks(vp, &calls))
            break;
        pending = __atomic_exchange_n(&vp->pending, 0, __ATOMIC_ACQUIRE);
        g_mutex_lock(&vp->lock);
        if (vp->model->offload)
            offload_work(vp, calls);
        for (unsigned q = 0; q < vp->model->nr_queues; q++)
            if ((pending & (1U << q)) && queue_live(vp, q))
                run_queue(vp, q);
        g_mutex_unlock(&vp->lock);
    }
    /* The backend stops here, on the thread whose seccomp list allows it. */
    g_mutex_lock(&vp->lock);
    if (vp->offload_running)
        vp->model->offload->stop(vp);
    vp->offload_running = false;
    g_mutex_unlock(&vp->lock);
    return NULL;
}

static int kvm_ioeventfd(int vm_fd, int fd, uint64_t gpa, bool assign)
{
    struct kvm_ioeventfd e = {
        .addr = gpa, .len = 2, .fd = fd, .flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
    };

    return __vmm_ioctl(vm_fd, KVM_IOEVENTFD, &e);
}

int (*virtio_pci_ioeventfd)(int vm_fd, int fd, uint64_t gpa, bool assign) = kvm_ioeventfd;

/* Puts the queues' eventfds where the notify region is now: BAR 0 while
 * memory decoding is on and the BAR lies in the bus's window (elsewhere
 * the bus serves it to nobody, and KVM must not either). All queues or
 * none: where KVM refuses, the writes exit to the BAR's handler. Linux
 * writes a queue's index as 2 bytes; other widths exit. Bus lock held. */
static void follow_bar(struct virtio_pci *vp)
{
    uint64_t bar = pci_function_bar_address(&vp->fn, 0);
    uint64_t notify = 0;
    unsigned n = vp->model->nr_queues, q;
    int r = 0;

    if (bar && bar >= vp->bus->window_base &&
        bar + VIRTIO_PCI_BAR_SIZE <= vp->bus->window_base + vp->bus->window_size)
        notify = bar + VIRTIO_PCI_NOTIFY_AT;
    if (vp->vm_fd < 0 || notify == vp->notify_gpa)
        return;
    for (q = 0; vp->notify_gpa && q < n; q++)
        virtio_pci_ioeventfd(vp->vm_fd, vp->queue_fd[q],
                             vp->notify_gpa + q * VIRTIO_PCI_NOTIFY_MULTIPLIER, false);
    vp->notify_gpa = 0;
    for (q = 0; notify && q < n && r == 0; q++)
        r = virtio_pci_ioeventfd(vp->vm_fd, vp->queue_fd[q],
                                 notify + q * VIRTIO_PCI_NOTIFY_MULTIPLIER, true);
    if (r == 0) {
        vp->notify_gpa = notify;
        return;
    }
    while (--q > 0)
        virtio_pci_ioeventfd(vp->vm_fd, vp->queue_fd[q - 1],
                             notify + (q - 1) * VIRTIO_PCI_NOTIFY_MULTIPLIER, false);
    if (!vp->ioeventfd_refused)
        vmm_log("%s: KVM_IOEVENTFD: %s; queue notifications exit to vmm (logged once)",
                vp->model->name, g_strerror(-r));
    vp->ioeventfd_refused = true;
}

/* Bus mastering came on (lock held): the kicks that waited are served,
 * a backend whose DRIVER_OK waited starts (the worker does both). */
static void bus_master_on(struct virtio_pci *vp)
{
    unsigned own = 0;

    for (unsigned q = 0; q < vp->model->nr_queues; q++)
        if (!offloaded(vp, q))
            own |= 1U << q;
    __atomic_or_fetch(&vp->pending, own, __ATOMIC_RELEASE);
    if (vp->model->offload && (vp->status & VIRTIO_CONFIG_S_DRIVER_OK))
        vp->offload_start = true;
    wake(vp, vp->kick_fd);
}

/* The guest wrote configuration space: BAR 0 or memory decoding may have
 * moved the notify region; the command register's bus master bit or
 * Message Control's MSI-X enable and function mask bits may have changed
 * (bus lock held: the transport's lock nests inside). A backend already
 * running (vhost-vsock, virtiofsd) keeps its rings while bus mastering is
 * off: only its interrupts wait, in the PBA. */
static void config_written(struct pci_function *fn, unsigned offset, unsigned len)
{
    struct virtio_pci *vp = fn->opaque;
    unsigned ctrl_at = vp->msix_cap + MSIX_CTRL;
    bool master_was;
    uint16_t cmd, ctrl = 0;

    follow_bar(vp);
    memcpy(&cmd, fn->config + PCI_COMMAND, 2);
    if (vp->msix_size)
        memcpy(&ctrl, fn->config + ctrl_at, 2);
    g_mutex_lock(&vp->lock);
    master_was = vp->bus_master;
    vp->bus_master = cmd & PCI_COMMAND_MASTER;
    vp->msix_enabled = ctrl & MSIX_CTRL_ENABLE;
    vp->msix_masked = ctrl & MSIX_CTRL_MASKALL;
    update_irq(vp);
    sync_routes(vp);
    msix_deliver_pending(vp);
    if (vp->bus_master && !master_was)
        bus_master_on(vp);
    g_mutex_unlock(&vp->lock);
}

/* The MSI-X capability: @n vectors, their table and pending bits in BAR 0,
 * every entry masked and MSI-X off until the driver says otherwise. */
static void add_msix_cap(struct virtio_pci *vp, unsigned n)
{
    uint8_t at = pci_function_add_cap(&vp->fn, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
    uint16_t ctrl = n - 1;
    uint32_t table = VIRTIO_PCI_MSIX_TABLE_AT, pba = VIRTIO_PCI_MSIX_PBA_AT; /* BIR 0 */

    g_assert(at && n >= 1 && n <= VIRTIO_PCI_MSIX_MAX);
    memcpy(vp->fn.config + at + MSIX_CTRL, &ctrl, 2);
    memcpy(vp->fn.config + at + MSIX_TABLE, &table, 4);
    memcpy(vp->fn.config + at + MSIX_PBA, &pba, 4);
    vp->fn.wmask[at + MSIX_CTRL + 1] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
    vp->msix_cap = at;
    vp->msix_size = n;
    for (unsigned v = 0; v < n; v++)
        vp->msix[v].ctrl = MSIX_ENTRY_MASKED;
}

/* A vendor-specific capability pointing at [offset, offset + length) of BAR 0. */
static uint8_t add_virtio_cap(struct pci_function *fn, uint8_t type, uint32_t offset,
                              uint32_t length, unsigned cap_len)
{
    uint8_t at = pci_function_add_cap(fn, 0x09, cap_len);

    g_assert(at);
    fn->config[at + VIRTIO_PCI_CAP_LEN] = cap_len;
    fn->config[at + VIRTIO_PCI_CAP_CFG_TYPE] = type;
    fn->config[at + VIRTIO_PCI_CAP_BAR] = 0;
    memcpy(fn->config + at + VIRTIO_PCI_CAP_OFFSET, &offset, 4);
    memcpy(fn->config + at + VIRTIO_PCI_CAP_LENGTH, &length, 4);
    return at;
}

bool virtio_pci_realize(struct virtio_pci *vp, const struct virtio_pci_model *model,
                        void *opaque, const struct device *dev, const struct device_ctx *ctx,
                        GError **error)
{
    struct pci_bus *bus = ctx->bus;
    uint32_t multiplier = VIRTIO_PCI_NOTIFY_MULTIPLIER;
    uint8_t notify;

    g_assert(model->nr_queues <= VIRTIO_PCI_MAX_QUEUES &&
             model->config_size <= sizeof(vp->config));
    vp->model = model;
    vp->opaque = opaque;
    vp->mem = ctx->mem;
    vp->console = ctx->console;
    vp->kick_fd = -1;
    vp->vm_fd = ctx->vm_fd;
    for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
        vp->queue_fd[q] = vp->call_fd[q] = -1;
        vp->call_bound[q] = -1;
    }
    for (unsigned v = 0; v < VIRTIO_PCI_MSIX_MAX; v++)
        vp->msix_gsi[v] = -1;
    g_mutex_init(&vp->lock);
    if (!bus) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: the machine has no PCI host before it", model->name);
        return false;
    }
    /* Reset before the line is wired: KVM's line starts low, and at realize
     * the interrupt controller is not there yet (x86_64 creates it after
     * the machine's devices, aarch64 initializes it after them), so a
     * KVM_IRQ_LINE now fails and would be logged as lost interrupts. */
    reset(vp);
    vp->irq_wired = ctx->irq_wired;
    vp->irq = ctx->irq;

    pci_function_init(&vp->fn, model->name, VIRTIO_PCI_VENDOR,
                      VIRTIO_PCI_DEVICE_BASE + model->device_id, model->class_code,
                      VIRTIO_PCI_VENDOR, VIRTIO_PCI_DEVICE_BASE + model->device_id);
    vp->fn.config[PCI_INTERRUPT_PIN] = 1; /* INTA */
    pci_function_add_bar(&vp->fn, 0, VIRTIO_PCI_BAR_SIZE, bar_io, vp);
    add_virtio_cap(&vp->fn, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_AT, COMMON_SIZE, 16);
    add_virtio_cap(&vp->fn, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_AT, 1, 16);
    if (model->config_size)
        add_virtio_cap(&vp->fn, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_AT,
                       model->config_size, 16);
    notify = add_virtio_cap(&vp->fn, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_AT,
                            model->nr_queues * VIRTIO_PCI_NOTIFY_MULTIPLIER, 20);
    memcpy(vp->fn.config + notify + 16, &multiplier, 4);
    if (ctx->msi && ctx->vm_fd >= 0) {
        vp->msi_flags = ctx->msi_flags;
        add_msix_cap(vp, model->nr_queues + 1);
        /* Routes only where a backend signals an eventfd: vmm's own models
         * raise their interrupts on the worker, in userspace already, where
         * KVM_SIGNAL_MSI costs the one ioctl an irqfd write would. */
        if (model->offload)
            vp->routes = ctx->routes;
        vp->irqfd_report = g_getenv("VMM_TEST_IRQFD") != NULL;
    }

    vp->fn.config_written = config_written;
    vp->fn.opaque = vp;

    vp->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    for (unsigned q = 0; q < model->nr_queues && vp->kick_fd >= 0; q++) {
        if ((vp->queue_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
            break;
        if (offloaded(vp, q) && (vp->call_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
            close(vp->queue_fd[q]);
            vp->queue_fd[q] = -1;
            break;
        }
    }
    if (vp->kick_fd < 0 || (model->nr_queues && vp->queue_fd[model->nr_queues - 1] < 0)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: eventfd: %s", model->name,
                    g_strerror(errno));
        return false;
    }
    if (!pci_bus_add(bus, &vp->fn, (int)dev->desc->base, &vp->slot, error))
        return false;
    vp->bus = bus;
    vp->msi_devid = vp->slot << 3; /* the requester ID: bus 0, function 0 */
    vp->worker = g_thread_try_new(model->name, worker, vp, error);
    return vp->worker != NULL;
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
    uint64_t one = 1;

    if (vp->worker) {
        __atomic_store_n(&vp->stopping, true, __ATOMIC_RELEASE);
        if (write(vp->kick_fd, &one, sizeof(one)) < 0)
            vmm_log("%s: stopping its worker: %s", vp->model->name, g_strerror(errno));
        g_thread_join(vp->worker);
        vp->worker = NULL;
    }
    if (vp->irqfd_report && vp->routes)
        vmm_log("%s: irqfd: %u bindings, %" G_GUINT64_FORMAT " backend calls through the worker",
                vp->model->name, vp->irqfd_binds, vp->relayed_calls);
    if (vp->bus)
        pci_bus_remove(vp->bus, vp->slot);
    vp->bus = NULL;
    if (vp->kick_fd >= 0)
        close(vp->kick_fd);
    vp->kick_fd = -1;
    /* KVM's registrations stay until the VM's fd closes, right after the
     * devices go (the main thread's seccomp list has no KVM_IOEVENTFD);
     * they hold their own references to the eventfds. */
    for (unsigned q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++) {
        if (vp->queue_fd[q] >= 0)
            close(vp->queue_fd[q]);
        if (vp->call_fd[q] >= 0)
            close(vp->call_fd[q]);
        vp->queue_fd[q] = vp->call_fd[q] = -1;
    }
    if (vp->model)
        g_mutex_clear(&vp->lock);
}

bool virtio_pci_device_realize(struct device *dev, const struct device_ctx *ctx,
                               const struct virtio_pci_model *model, GError **error)
{
    struct virtio_pci *vp = g_new0(struct virtio_pci, 1);

    dev->state = vp;
    return virtio_pci_realize(vp, model, NULL, dev, ctx, error);
}

void virtio_pci_device_destroy(struct device *dev)
{
    virtio_pci_destroy(dev->state);
    g_free(dev->state);
}
