/* A VM's KVM interrupt routing table and its irqfds (vmm/irq_routes.h). */
#include <errno.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/irq_routes.h"
#include "vmm/kvm.h"

static int kvm_set(int vm_fd, const struct kvm_irq_routing *table)
{
    return __vmm_ioctl(vm_fd, KVM_SET_GSI_ROUTING, (void *)table);
}

static int kvm_irqfd(int vm_fd, int fd, uint32_t gsi, bool assign)
{
    struct kvm_irqfd f = { .fd = fd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

    return __vmm_ioctl(vm_fd, KVM_IRQFD, &f);
}

int (*irq_routes_kvm_set)(int vm_fd, const struct kvm_irq_routing *table) = kvm_set;
int (*irq_routes_kvm_irqfd)(int vm_fd, int fd, uint32_t gsi, bool assign) = kvm_irqfd;

void irq_routes_init(struct irq_routes *r)
{
    memset(r, 0, sizeof(*r));
    g_mutex_init(&r->lock);
    r->vm_fd = -1;
}

bool irq_routes_start(struct irq_routes *r, int vm_fd, const struct kvm_irq_routing_entry *e,
                      unsigned n, unsigned kvm_max, GError **error)
{
    uint32_t first = 0;

    for (unsigned i = 0; i < n; i++)
        first = MAX(first, e[i].gsi + 1);
    /* KVM bounds both the entries (the defaults and ours) and the GSIs. */
    if (n >= kvm_max || first >= kvm_max) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "KVM's interrupt routing table (%u entries) has no room beyond its %u "
                    "default routes", kvm_max, n);
        return false;
    }
    g_mutex_lock(&r->lock);
    g_free(r->defaults);
    r->defaults = g_memdup2(e, n * sizeof(*e));
    r->nr_defaults = n;
    r->vm_fd = vm_fd;
    r->first_gsi = first;
    r->msi_max = MIN(MIN(kvm_max - n, kvm_max - first), IRQ_ROUTES_MSI_MAX);
    memset(r->msi, 0, sizeof(r->msi));
    r->nr_msi = 0;
    r->ready = true;
    g_mutex_unlock(&r->lock);
    return true;
}

void irq_routes_clear(struct irq_routes *r)
{
    g_free(r->defaults);
    r->defaults = NULL;
    r->ready = false;
    g_mutex_clear(&r->lock);
}

/* Sends the whole table: the defaults, then each MSI route (lock held). */
static int commit(struct irq_routes *r)
{
    unsigned n = r->nr_defaults + r->nr_msi, k = r->nr_defaults;
    g_autofree struct kvm_irq_routing *t =
        g_malloc0(sizeof(*t) + n * sizeof(struct kvm_irq_routing_entry));

    t->nr = n;
    if (r->nr_defaults) /* a table with none has no array to copy from */
        memcpy(t->entries, r->defaults, r->nr_defaults * sizeof(*r->defaults));
    for (unsigned i = 0; i < r->msi_max; i++) {
        const struct irq_msi_route *m = &r->msi[i];

        if (!m->used)
            continue;
        if (m->hv_sint) {
            t->entries[k++] = (struct kvm_irq_routing_entry){
                .gsi = r->first_gsi + i, .type = KVM_IRQ_ROUTING_HV_SINT,
                .u.hv_sint = { .vcpu = m->vp_index, .sint = m->sint },
            };
            continue;
        }
        t->entries[k++] = (struct kvm_irq_routing_entry){
            .gsi = r->first_gsi + i, .type = KVM_IRQ_ROUTING_MSI, .flags = m->flags,
            .u.msi = { .address_lo = (uint32_t)m->addr, .address_hi = m->addr >> 32,
                       .data = m->data, .devid = m->devid },
        };
    }
    g_assert(k == n);
    return irq_routes_kvm_set(r->vm_fd, t);
}

/* The route of @gsi, or NULL (lock held). */
static struct irq_msi_route *route_of(struct irq_routes *r, uint32_t gsi)
{
    if (!r->ready || gsi < r->first_gsi || gsi - r->first_gsi >= r->msi_max ||
        !r->msi[gsi - r->first_gsi].used)
        return NULL;
    return &r->msi[gsi - r->first_gsi];
}

/* Puts @route in the first free slot and sends the table: its GSI or -errno. */
static int add_route(struct irq_routes *r, const struct irq_msi_route *route)
{
    int ret = -ENOSPC;

    g_mutex_lock(&r->lock);
    if (!r->ready) {
        ret = -ENODEV;
        goto out;
    }
    for (unsigned i = 0; i < r->msi_max; i++) {
        struct irq_msi_route *m = &r->msi[i];

        if (m->used)
            continue;
        *m = *route;
        m->used = true;
        r->nr_msi++;
        ret = commit(r);
        if (ret < 0) {
            m->used = false;
            r->nr_msi--;
        } else {
            ret = (int)(r->first_gsi + i);
        }
        break;
    }
out:
    g_mutex_unlock(&r->lock);
    return ret;
}

int irq_routes_add_msi(struct irq_routes *r, uint64_t addr, uint32_t data, uint32_t flags,
                       uint32_t devid)
{
    const struct irq_msi_route m = { .addr = addr, .data = data, .flags = flags, .devid = devid };

    return add_route(r, &m);
}

int irq_routes_add_hv_sint(struct irq_routes *r, uint32_t vp_index, uint32_t sint)
{
    const struct irq_msi_route m = { .hv_sint = true, .vp_index = vp_index, .sint = sint };

    return add_route(r, &m);
}

int irq_routes_update_msi(struct irq_routes *r, uint32_t gsi, uint64_t addr, uint32_t data,
                          uint32_t flags, uint32_t devid)
{
    struct irq_msi_route *m, old;
    int ret = -ENOENT;

    g_mutex_lock(&r->lock);
    if ((m = route_of(r, gsi)) && !m->hv_sint) {
        old = *m;
        *m = (struct irq_msi_route){ .used = true, .addr = addr, .data = data, .flags = flags,
                                     .devid = devid };
        if ((ret = commit(r)) < 0)
            *m = old;
    }
    g_mutex_unlock(&r->lock);
    return ret;
}

int irq_routes_remove(struct irq_routes *r, uint32_t gsi)
{
    struct irq_msi_route *m;
    int ret = -ENOENT;

    g_mutex_lock(&r->lock);
    if ((m = route_of(r, gsi))) {
        m->used = false;
        r->nr_msi--;
        if ((ret = commit(r)) < 0) {
            m->used = true;
            r->nr_msi++;
        }
    }
    g_mutex_unlock(&r->lock);
    return ret;
}

int irq_routes_irqfd(struct irq_routes *r, int fd, uint32_t gsi, bool assign)
{
    return irq_routes_kvm_irqfd(r->vm_fd, fd, gsi, assign);
}
