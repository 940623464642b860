#include <string.h>

#include "vmm/error.h"
#include "vmm/iobus.h"

static const char *const bus_names[IOBUS_COUNT] = { "port I/O", "MMIO" };

void iobus_init(struct iobus *bus)
{
    for (int k = 0; k < IOBUS_COUNT; k++) {
        bus->ranges[k] = g_array_new(FALSE, TRUE, sizeof(struct io_range));
        bus->unclaimed[k] = 0;
    }
    bus->cleanups = g_array_new(FALSE, FALSE, sizeof(struct iobus_cleanup));
}

void iobus_add_cleanup(struct iobus *bus, GDestroyNotify fn, void *data)
{
    struct iobus_cleanup c = { fn, data };

    g_array_append_val(bus->cleanups, c);
}

void iobus_destroy(struct iobus *bus)
{
    /* Newest first: what was registered later may depend on earlier state. */
    for (guint i = bus->cleanups ? bus->cleanups->len : 0; i > 0; i--) {
        struct iobus_cleanup *c = &g_array_index(bus->cleanups, struct iobus_cleanup, i - 1);

        c->fn(c->data);
    }
    if (bus->cleanups)
        g_array_free(bus->cleanups, TRUE);
    bus->cleanups = NULL;
    for (int k = 0; k < IOBUS_COUNT; k++) {
        if (bus->ranges[k])
            g_array_free(bus->ranges[k], TRUE);
        bus->ranges[k] = NULL;
    }
}

bool iobus_register(struct iobus *bus, iobus_kind kind, uint64_t base, uint64_t len,
                    io_handler_fn handler, void *opaque, const char *name,
                    GError **error)
{
    GArray *a = bus->ranges[kind];
    struct io_range r = { base, len, handler, opaque, name };
    guint at = 0;

    if (len == 0 || base + len - 1 < base) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: bad %s range %#" G_GINT64_MODIFIER
                    "x+%#" G_GINT64_MODIFIER "x", name, bus_names[kind], base, len);
        return false;
    }
    while (at < a->len && g_array_index(a, struct io_range, at).base < base)
        at++;
    /* Sorted, so only the neighbours can overlap. */
    for (guint n = at ? at - 1 : 0; n < a->len && n <= at; n++) {
        const struct io_range *o = &g_array_index(a, struct io_range, n);

        if (base <= o->base + o->len - 1 && o->base <= base + len - 1) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                        "%s: %s range %#" G_GINT64_MODIFIER "x+%#" G_GINT64_MODIFIER
                        "x overlaps %s", name, bus_names[kind], base, len, o->name);
            return false;
        }
    }
    g_array_insert_val(a, at, r);
    return true;
}

const struct io_range *iobus_find(const struct iobus *bus, iobus_kind kind, uint64_t addr)
{
    const GArray *a = bus->ranges[kind];
    guint lo = 0, hi = a->len;

    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        const struct io_range *r = &g_array_index(a, struct io_range, mid);

        if (addr < r->base)
            hi = mid;
        else if (addr - r->base >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void iobus_access(struct iobus *bus, iobus_kind kind, struct vcpu *vcpu, uint64_t addr,
                  uint8_t *data, unsigned len, bool is_write)
{
    const struct io_range *r = iobus_find(bus, kind, addr);

    if (r) {
        r->handler(vcpu, r->opaque, addr - r->base, data, len, is_write);
        return;
    }
    __atomic_add_fetch(&bus->unclaimed[kind], 1, __ATOMIC_RELAXED);
    if (!is_write)
        memset(data, 0xff, len);
}
