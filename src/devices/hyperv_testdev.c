/*
 * hyperv-testdev: QEMU's Hyper-V test device (vmm/hw/hyperv_testdev.h).
 * KVM does most of it: a SINT route is a GSI of type KVM_IRQ_ROUTING_HV_SINT
 * in the VM's one routing table, and raising it (KVM_IRQ_LINE) makes KVM's
 * SynIC deliver the SINT's vector to the vCPU, as the guest programmed it.
 * The connections are the device's own: KVM hands vmm the HvPostMessage
 * and HvSignalEvent calls it has no connection for, and each vCPU's SynIC
 * MSR writes (where its message and event pages are); the device writes
 * the message or flag into the target's page and raises the SINT. A
 * message that finds its slot full waits for the guest's EOM, which KVM
 * handles without an exit: it acks the SINT routes, and a resampling irqfd
 * on each message connection's route makes that ack an eventfd event, on
 * which the device's worker thread puts the waiting messages in.
 *
 * The guest chooses every field of a command and every byte of a page:
 * routes, connections and reference counts are bounded, a vCPU or SINT
 * out of range is ignored, guest addresses go through gpa_to_hva, pages
 * the guest may be reading are written with atomics, and a failure is
 * said once, never fatal.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/iobus.h"
#include "vmm/irq_routes.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"

/* The Hyper-V ABI: the SynIC MSRs' enable bit, hypercall codes and statuses, page layouts. */
#define HV_ENABLE 1ULL                 /* bit 0 of SCONTROL, SIMP, SIEFP */
#define HV_PAGE_MASK (~0xfffULL)
#define HVCALL_POST_MESSAGE 0x5c
#define HVCALL_SIGNAL_EVENT 0x5d
#define HV_HYPERCALL_FAST (1ULL << 16)
#define HV_STATUS_SUCCESS 0
#define HV_STATUS_INVALID_HYPERCALL_INPUT 3
#define HV_STATUS_INVALID_PARAMETER 5
#define HV_STATUS_INVALID_CONNECTION_ID 0x12
#define HV_STATUS_INSUFFICIENT_BUFFERS 0x13
#define HV_MESSAGE_SIZE 256            /* one SIMP slot */
#define HV_MESSAGE_PAYLOAD 240
#define HV_MESSAGE_FLAG_PENDING 1      /* in the header's flags byte (offset 5) */
#define HV_EVENT_FLAGS_SIZE 256        /* one SIEFP slot: 2048 flags */
#define ROUTE_MAX_REFS 64              /* creates of one route that are counted */
/* Message connections: each holds an irqfd (its own eventfd, made at
 * realize: a vCPU thread may not make one) for KVM's ack of its SINT. */
#define MAX_MSG_CONNS 8

struct sint_route {
    bool used;
    uint8_t vcpu, sint;
    unsigned refs;            /* creates (commands and connections) not yet destroyed */
    uint32_t gsi;
};

struct msg_conn {
    bool used, held;          /* held: a message waits for the slot (EOM) */
    bool irqfd;               /* its resampling irqfd is bound to @gsi */
    uint32_t gsi;
    uint8_t id, vcpu, sint;
    uint8_t msg[HV_MESSAGE_SIZE];
};

struct evt_conn {
    bool used;
    uint8_t id, vcpu, sint;
};

struct vp_synic {
    uint64_t control, evt_page, msg_page; /* the MSRs, as KVM reported them */
};

struct hyperv_testdev {
    GMutex lock;              /* everything below (taken before the routing table's) */
    struct irq_routes *table; /* the VM's, NULL without an in-kernel irqchip */
    const struct guest_mem *mem;
    int vm_fd;
    unsigned nr_vcpus;
    bool warned;              /* a failure has been said */
    struct sint_route routes[HYPERV_TESTDEV_MAX_ROUTES];
    struct msg_conn msg[MAX_MSG_CONNS];
    int msg_fd[MAX_MSG_CONNS];  /* msg[i]'s irqfd, -1 when none could be made */
    int ack_fd;               /* every message irqfd's resample eventfd */
    int wake_fd;              /* the worker's stop */
    bool stopping;
    GThread *worker;
    struct evt_conn evt[HYPERV_TESTDEV_MAX_CONNS];
    struct vp_synic *vp;      /* nr_vcpus of them */
};

static void warn_once(struct hyperv_testdev *t, const char *what, int err)
{
    if (t->warned)
        return;
    t->warned = true;
    vmm_log("hyperv-testdev: %s: %s; the guest's SynIC test gets no interrupt", what,
            g_strerror(-err));
}

/* The route to (@vcpu, @sint), or NULL (lock held). */
static struct sint_route *route_of(struct hyperv_testdev *t, uint8_t vcpu, uint8_t sint)
{
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_ROUTES; i++)
        if (t->routes[i].used && t->routes[i].vcpu == vcpu && t->routes[i].sint == sint)
            return &t->routes[i];
    return NULL;
}

/* One more user of the route to (@vcpu, @sint), made if need be. */
static void route_get(struct hyperv_testdev *t, uint8_t vcpu, uint8_t sint)
{
    struct sint_route *r = route_of(t, vcpu, sint);
    int gsi;

    if (r) {
        if (r->refs < ROUTE_MAX_REFS)
            r->refs++;
        return;
    }
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_ROUTES; i++) {
        r = &t->routes[i];
        if (r->used)
            continue;
        gsi = irq_routes_add_hv_sint(t->table, vcpu, sint);
        if (gsi < 0) {
            warn_once(t, "no route for a SINT", gsi);
            return;
        }
        *r = (struct sint_route){ .used = true, .vcpu = vcpu, .sint = sint, .refs = 1,
                                  .gsi = gsi };
        return;
    }
}

static void route_drop(struct hyperv_testdev *t, struct sint_route *r)
{
    int ret;

    if (--r->refs > 0)
        return;
    if ((ret = irq_routes_remove(t->table, r->gsi)) < 0)
        warn_once(t, "removing a SINT route", ret);
    r->used = false;
}

static void route_put(struct hyperv_testdev *t, uint8_t vcpu, uint8_t sint)
{
    struct sint_route *r = route_of(t, vcpu, sint);

    if (r)
        route_drop(t, r);
}

static void raise_sint(struct hyperv_testdev *t, uint8_t vcpu, uint8_t sint)
{
    const struct sint_route *r = route_of(t, vcpu, sint);
    struct kvm_irq_level l = { .level = 1 };
    int ret;

    if (!r)
        return;
    l.irq = r->gsi;
    /* KVM's SynIC ignores a SINT the guest masked or a SynIC it has not
     * enabled (not an error here): the test's own business. */
    if ((ret = __vmm_ioctl(t->vm_fd, KVM_IRQ_LINE, &l)) < 0)
        warn_once(t, "KVM_IRQ_LINE on a SINT route", ret);
}

/* Slot @sint of the page an MSR value names, if the guest enabled it and
 * its SynIC, and the slot is in RAM. */
static uint8_t *slot_of(struct hyperv_testdev *t, const struct vp_synic *s, uint64_t page,
                        uint8_t sint, unsigned size)
{
    if (!(s->control & HV_ENABLE) || !(page & HV_ENABLE))
        return NULL;
    return gpa_to_hva_writable(t->mem, (page & HV_PAGE_MASK) + (uint64_t)sint * size, size);
}

/* Puts @c's held message in its slot, or marks the slot's message as
 * having one behind it (the guest's EOM brings it) (lock held). */
static void deliver(struct hyperv_testdev *t, struct msg_conn *c)
{
    const struct vp_synic *s = &t->vp[c->vcpu];
    uint8_t *slot = slot_of(t, s, s->msg_page, c->sint, HV_MESSAGE_SIZE);
    uint32_t type;

    if (!slot) {            /* no page to put it in: dropped, as Hyper-V would */
        c->held = false;
        return;
    }
    if (__atomic_load_n((uint32_t *)slot, __ATOMIC_ACQUIRE) != 0) {
        __atomic_fetch_or(slot + 5, HV_MESSAGE_FLAG_PENDING, __ATOMIC_ACQ_REL);
        return;
    }
    memcpy(&type, c->msg, 4);
    /* The body first, the type last: a nonzero type says the slot is full. */
    memcpy(slot + 4, c->msg + 4, HV_MESSAGE_SIZE - 4);
    __atomic_store_n((uint32_t *)slot, type, __ATOMIC_RELEASE);
    c->held = false;
    raise_sint(t, c->vcpu, c->sint);
}

static struct msg_conn *msg_conn_of(struct hyperv_testdev *t, uint32_t id)
{
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        if (t->msg[i].used && t->msg[i].id == id)
            return &t->msg[i];
    return NULL;
}

static struct evt_conn *evt_conn_of(struct hyperv_testdev *t, uint32_t id)
{
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_CONNS; i++)
        if (t->evt[i].used && t->evt[i].id == id)
            return &t->evt[i];
    return NULL;
}

/* Binds (@assign) or unbinds msg[i]'s resampling irqfd to its route. */
static int msg_irqfd(struct hyperv_testdev *t, unsigned i, bool assign)
{
    struct kvm_irqfd f = {
        .fd = t->msg_fd[i], .gsi = t->msg[i].gsi,
        .flags = assign ? KVM_IRQFD_FLAG_RESAMPLE : KVM_IRQFD_FLAG_DEASSIGN,
        .resamplefd = assign ? t->ack_fd : 0,
    };

    return __vmm_ioctl(t->vm_fd, KVM_IRQFD, &f);
}

static void msg_conn_create(struct hyperv_testdev *t, uint8_t id, uint8_t vcpu, uint8_t sint)
{
    struct sint_route *r;
    int ret;

    if (msg_conn_of(t, id))
        return;
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++) {
        struct msg_conn *c = &t->msg[i];

        if (c->used || t->msg_fd[i] < 0)
            continue;
        route_get(t, vcpu, sint);
        if (!(r = route_of(t, vcpu, sint)))
            return;
        *c = (struct msg_conn){ .used = true, .id = id, .vcpu = vcpu, .sint = sint,
                                .gsi = r->gsi };
        if ((ret = msg_irqfd(t, i, true)) < 0)
            warn_once(t, "a message connection's irqfd (a held message waits for ever)", ret);
        c->irqfd = ret >= 0;
        return;
    }
}

static void msg_conn_destroy(struct hyperv_testdev *t, struct msg_conn *c)
{
    if (c->irqfd)
        msg_irqfd(t, (unsigned)(c - t->msg), false);
    route_put(t, c->vcpu, c->sint);
    c->used = false;
}

static void evt_conn_create(struct hyperv_testdev *t, uint8_t id, uint8_t vcpu, uint8_t sint)
{
    if (evt_conn_of(t, id))
        return;
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_CONNS; i++) {
        if (t->evt[i].used)
            continue;
        t->evt[i] = (struct evt_conn){ .used = true, .id = id, .vcpu = vcpu, .sint = sint };
        route_get(t, vcpu, sint);
        return;
    }
}

static void ctl_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    struct hyperv_testdev *t = opaque;
    struct msg_conn *m;
    struct evt_conn *e;
    uint32_t v;
    uint8_t sint, vp, cmd, conn;

    (void)vcpu;
    if (!is_write) {
        memset(data, 0xff, len);
        return;
    }
    if (offset != 0 || len != 4 || !t->table)
        return;
    memcpy(&v, data, 4);
    sint = v & 0xff;
    vp = (v >> 8) & 0xff;
    cmd = (v >> 16) & 0xff;
    conn = v >> 24;
    /* The VP index KVM gives vCPU n is n. */
    if (sint >= HYPERV_TESTDEV_SINTS || vp >= t->nr_vcpus)
        return;
    g_mutex_lock(&t->lock);
    switch (cmd) {
    case HYPERV_TESTDEV_SINT_ROUTE_CREATE:
        route_get(t, vp, sint);
        break;
    case HYPERV_TESTDEV_SINT_ROUTE_DESTROY:
        route_put(t, vp, sint);
        break;
    case HYPERV_TESTDEV_SINT_ROUTE_SET_SINT:
        raise_sint(t, vp, sint);
        break;
    case HYPERV_TESTDEV_MSG_CONN_CREATE:
        msg_conn_create(t, conn, vp, sint);
        break;
    case HYPERV_TESTDEV_MSG_CONN_DESTROY:
        if ((m = msg_conn_of(t, conn)))
            msg_conn_destroy(t, m);
        break;
    case HYPERV_TESTDEV_EVT_CONN_CREATE:
        evt_conn_create(t, conn, vp, sint);
        break;
    case HYPERV_TESTDEV_EVT_CONN_DESTROY:
        if ((e = evt_conn_of(t, conn))) {
            route_put(t, e->vcpu, e->sint);
            e->used = false;
        }
        break;
    default:
        break;
    }
    g_mutex_unlock(&t->lock);
}

void hyperv_testdev_synic(struct hyperv_testdev *t, unsigned vp, uint32_t msr,
                          uint64_t control, uint64_t evt_page, uint64_t msg_page)
{
    if (vp >= t->nr_vcpus)
        return;
    g_mutex_lock(&t->lock);
    t->vp[vp] = (struct vp_synic){ .control = control, .evt_page = evt_page,
                                   .msg_page = msg_page };
    (void)msr;
    /* A new page, or the SynIC switched on, may let a held message in. */
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        if (t->msg[i].used && t->msg[i].held && t->msg[i].vcpu == vp)
            deliver(t, &t->msg[i]);
    g_mutex_unlock(&t->lock);
}

/* HvPostMessage: struct { u32 connection, reserved, type, size; u8 payload[240]; }
 * at @gpa, posted as the message { u32 type; u8 size, flags, reserved[2];
 * u64 sender; u8 payload[240]; }. */
static uint64_t post_message(struct hyperv_testdev *t, uint64_t gpa)
{
    const uint8_t *in = gpa_to_hva(t->mem, gpa, 16 + HV_MESSAGE_PAYLOAD);
    uint8_t buf[16 + HV_MESSAGE_PAYLOAD];
    uint32_t id, type, size;
    struct msg_conn *c;

    if (!in || (gpa & 7))
        return HV_STATUS_INVALID_PARAMETER;
    memcpy(buf, in, sizeof(buf));   /* once: the guest may change it meanwhile */
    memcpy(&id, buf, 4);
    memcpy(&type, buf + 8, 4);
    memcpy(&size, buf + 12, 4);
    /* Types with the top bit are the hypervisor's; type 0 marks a free slot. */
    if (size > HV_MESSAGE_PAYLOAD || type == 0 || (type & 0x80000000U))
        return HV_STATUS_INVALID_PARAMETER;
    if (!(c = msg_conn_of(t, id)))
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (c->held)
        return HV_STATUS_INSUFFICIENT_BUFFERS;
    memset(c->msg, 0, sizeof(c->msg));
    memcpy(c->msg, &type, 4);
    c->msg[4] = (uint8_t)size;
    memcpy(c->msg + 16, buf + 16, size);
    c->held = true;
    deliver(t, c);
    return HV_STATUS_SUCCESS;
}

/* HvSignalEvent: connection in bits 0-23, flag number in 32-47 (vmm's
 * connections have one flag: their own number, as QEMU's). */
static uint64_t signal_event(struct hyperv_testdev *t, uint64_t param)
{
    struct evt_conn *c;
    const struct vp_synic *s;
    uint64_t *word, bit, old;
    uint8_t *slot;

    if (param & 0xffff0000ff000000ULL)   /* reserved bits */
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    if (!(c = evt_conn_of(t, (uint32_t)param)))
        return HV_STATUS_INVALID_CONNECTION_ID;
    if (param >> 32)                       /* a flag number past its one flag */
        return HV_STATUS_INVALID_PARAMETER;
    s = &t->vp[c->vcpu];
    slot = slot_of(t, s, s->evt_page, c->sint, HV_EVENT_FLAGS_SIZE);
    if (!slot)
        return HV_STATUS_SUCCESS;  /* no page: the event is lost, as on Hyper-V */
    word = (uint64_t *)slot + c->id / 64;
    bit = 1ULL << (c->id % 64);
    old = __atomic_fetch_or(word, bit, __ATOMIC_ACQ_REL);
    if (!(old & bit))
        raise_sint(t, c->vcpu, c->sint);
    return HV_STATUS_SUCCESS;
}

bool hyperv_testdev_hcall(struct hyperv_testdev *t, uint64_t input, uint64_t param,
                          uint64_t *status)
{
    uint16_t code = input & 0xffff;
    const uint64_t *p;

    if (code != HVCALL_POST_MESSAGE && code != HVCALL_SIGNAL_EVENT)
        return false;
    g_mutex_lock(&t->lock);
    if (code == HVCALL_POST_MESSAGE) {
        *status = (input & HV_HYPERCALL_FAST) ? HV_STATUS_INVALID_HYPERCALL_INPUT
                                               : post_message(t, param);
    } else if (input & HV_HYPERCALL_FAST) {
        *status = signal_event(t, param);
    } else {
        p = (param & 7) ? NULL : gpa_to_hva(t->mem, param, 8);
        *status = p ? signal_event(t, __atomic_load_n(p, __ATOMIC_RELAXED))
                    : HV_STATUS_INVALID_PARAMETER;
    }
    g_mutex_unlock(&t->lock);
    return true;
}

/* The guest's EOMs (and EOIs of its SINT vectors) ack the message
 * connections' routes: held messages may go in now. */
static gpointer worker(gpointer opaque)
{
    struct hyperv_testdev *t = opaque;
    uint64_t count;

    while (!__atomic_load_n(&t->stopping, __ATOMIC_ACQUIRE)) {
        struct pollfd p[2] = { { .fd = t->wake_fd, .events = POLLIN },
                               { .fd = t->ack_fd, .events = POLLIN } };

        vmm_seccomp_adopt(VMM_THREAD_DEVICE);
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (!(p[1].revents & POLLIN))
            continue;
        (void)!read(t->ack_fd, &count, sizeof(count));
        g_mutex_lock(&t->lock);
        for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
            if (t->msg[i].used && t->msg[i].held)
                deliver(t, &t->msg[i]);
        g_mutex_unlock(&t->lock);
    }
    return NULL;
}

static bool hyperv_testdev_realize(struct device *dev, const struct device_ctx *ctx,
                                   GError **error)
{
    struct hyperv_testdev *t = g_new0(struct hyperv_testdev, 1);

    dev->state = t;
    g_mutex_init(&t->lock);
    t->vm_fd = ctx->vm_fd;
    t->table = ctx->vm_fd >= 0 ? ctx->routes : NULL;
    t->mem = ctx->mem;
    t->nr_vcpus = MIN(ctx->nr_vcpus, 256U);  /* VP indexes in a command are 8 bits */
    t->vp = g_new0(struct vp_synic, MAX(t->nr_vcpus, 1U));
    t->ack_fd = t->wake_fd = -1;
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        t->msg_fd[i] = -1;
    if (!iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 4, ctl_io, t,
                        "hyperv-testdev", error))
        return false;
    if (!t->table)
        return true;        /* no irqchip: the device ignores every command */
    t->ack_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    t->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        t->msg_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (t->ack_fd < 0 || t->wake_fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "hyperv-testdev: eventfd: %s",
                    g_strerror(errno));
        return false;
    }
    t->worker = g_thread_try_new("hyperv-testdev", worker, t, error);
    return t->worker != NULL;
}

/* A reset takes the routes out of KVM's table and forgets the connections. */
static void hyperv_testdev_reset(struct device *dev)
{
    struct hyperv_testdev *t = dev->state;

    g_mutex_lock(&t->lock);
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_ROUTES; i++)
        if (t->routes[i].used) {
            t->routes[i].refs = 1;
            route_drop(t, &t->routes[i]);
        }
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        if (t->msg[i].used && t->msg[i].irqfd)
            msg_irqfd(t, i, false);
    memset(t->msg, 0, sizeof(t->msg));
    memset(t->evt, 0, sizeof(t->evt));
    memset(t->vp, 0, t->nr_vcpus * sizeof(*t->vp));
    g_mutex_unlock(&t->lock);
}

static void hyperv_testdev_destroy(struct device *dev)
{
    struct hyperv_testdev *t = dev->state;
    uint64_t one = 1;

    if (t->worker) {
        __atomic_store_n(&t->stopping, true, __ATOMIC_RELEASE);
        (void)!write(t->wake_fd, &one, sizeof(one));
        g_thread_join(t->worker);
    }
    /* Closing an irqfd's eventfd unbinds it in KVM. */
    for (unsigned i = 0; i < MAX_MSG_CONNS; i++)
        if (t->msg_fd[i] >= 0)
            close(t->msg_fd[i]);
    if (t->ack_fd >= 0)
        close(t->ack_fd);
    if (t->wake_fd >= 0)
        close(t->wake_fd);
    g_mutex_clear(&t->lock);
    g_free(t->vp);
    g_free(t);
}

const struct device_ops hyperv_testdev_device = {
    .name = "hyperv-testdev",
    .realize = hyperv_testdev_realize,
    .reset = hyperv_testdev_reset,
    .destroy = hyperv_testdev_destroy,
};
