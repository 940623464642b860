/*
 * hyperv-testdev: the SynIC routes of QEMU's Hyper-V test device
 * (vmm/hw/hyperv_testdev.h). KVM does the rest: a route is a GSI of type
 * KVM_IRQ_ROUTING_HV_SINT in the VM's one routing table, and raising it
 * (KVM_IRQ_LINE) makes KVM's SynIC deliver the SINT's vector to the vCPU,
 * as the guest programmed it.
 *
 * The guest chooses every field of a command: the routes are bounded
 * (HYPERV_TESTDEV_MAX_ROUTES, and the table's own bound), a vCPU or SINT
 * out of range is ignored, and a failure is said once, never fatal.
 */
#include <errno.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/iobus.h"
#include "vmm/irq_routes.h"
#include "vmm/kvm.h"

struct sint_route {
    bool used;
    uint8_t vcpu, sint;
    uint32_t gsi;
};

struct hyperv_testdev {
    GMutex lock;              /* routes (taken before the routing table's) */
    struct irq_routes *table; /* the VM's, NULL without an in-kernel irqchip */
    int vm_fd;
    unsigned nr_vcpus;
    bool warned;              /* a failure has been said */
    struct sint_route routes[HYPERV_TESTDEV_MAX_ROUTES];
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

static void route_create(struct hyperv_testdev *t, uint8_t vcpu, uint8_t sint)
{
    int gsi;

    if (route_of(t, vcpu, sint))
        return;
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_ROUTES; i++) {
        struct sint_route *r = &t->routes[i];

        if (r->used)
            continue;
        gsi = irq_routes_add_hv_sint(t->table, vcpu, sint);
        if (gsi < 0) {
            warn_once(t, "no route for a SINT", gsi);
            return;
        }
        *r = (struct sint_route){ .used = true, .vcpu = vcpu, .sint = sint, .gsi = gsi };
        return;
    }
}

static void route_destroy(struct hyperv_testdev *t, struct sint_route *r)
{
    int ret = irq_routes_remove(t->table, r->gsi);

    if (ret < 0)
        warn_once(t, "removing a SINT route", ret);
    r->used = false;
}

static void route_raise(struct hyperv_testdev *t, const struct sint_route *r)
{
    struct kvm_irq_level l = { .irq = r->gsi, .level = 1 };
    int ret = __vmm_ioctl(t->vm_fd, KVM_IRQ_LINE, &l);

    /* KVM's SynIC refuses a SINT the guest masked or a SynIC it has not
     * enabled (status <= 0 then, not an error): the test's own business. */
    if (ret < 0)
        warn_once(t, "KVM_IRQ_LINE on a SINT route", ret);
}

static void ctl_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    struct hyperv_testdev *t = opaque;
    struct sint_route *r;
    uint32_t v;
    uint8_t sint, vp, cmd;

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
    /* The VP index KVM gives vCPU n is n. */
    if (sint >= HYPERV_TESTDEV_SINTS || vp >= t->nr_vcpus)
        return;
    g_mutex_lock(&t->lock);
    switch (cmd) {
    case HYPERV_TESTDEV_SINT_ROUTE_CREATE:
        route_create(t, vp, sint);
        break;
    case HYPERV_TESTDEV_SINT_ROUTE_DESTROY:
        if ((r = route_of(t, vp, sint)))
            route_destroy(t, r);
        break;
    case HYPERV_TESTDEV_SINT_ROUTE_SET_SINT:
        if ((r = route_of(t, vp, sint)))
            route_raise(t, r);
        break;
    default:
        break;
    }
    g_mutex_unlock(&t->lock);
}

static bool hyperv_testdev_realize(struct device *dev, const struct device_ctx *ctx,
                                   GError **error)
{
    struct hyperv_testdev *t = g_new0(struct hyperv_testdev, 1);

    dev->state = t;
    g_mutex_init(&t->lock);
    t->vm_fd = ctx->vm_fd;
    t->table = ctx->vm_fd >= 0 ? ctx->routes : NULL;
    t->nr_vcpus = ctx->nr_vcpus;
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 4, ctl_io, t,
                          "hyperv-testdev", error);
}

/* A reset takes the routes out of KVM's table. */
static void hyperv_testdev_reset(struct device *dev)
{
    struct hyperv_testdev *t = dev->state;

    g_mutex_lock(&t->lock);
    for (unsigned i = 0; i < HYPERV_TESTDEV_MAX_ROUTES; i++)
        if (t->routes[i].used)
            route_destroy(t, &t->routes[i]);
    g_mutex_unlock(&t->lock);
}

static void hyperv_testdev_destroy(struct device *dev)
{
    struct hyperv_testdev *t = dev->state;

    g_mutex_clear(&t->lock);
    g_free(t);
}

const struct device_ops hyperv_testdev_device = {
    .name = "hyperv-testdev",
    .realize = hyperv_testdev_realize,
    .reset = hyperv_testdev_reset,
    .destroy = hyperv_testdev_destroy,
};
