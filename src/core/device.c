/* The device life cycle (vmm/device.h): realize from a machine table,
 * reset, destroy, and the walks that describe the devices to the guest. */
#include "vmm/device.h"

static struct device *nth(const struct device_set *set, guint i)
{
    return g_ptr_array_index(set->devices, i);
}

static guint count(const struct device_set *set)
{
    return set->devices ? set->devices->len : 0;
}

bool device_realize(struct device_set *set, const struct device_desc *desc,
                    const struct device_ctx *ctx, GError **error)
{
    struct device *dev = g_new0(struct device, 1);

    dev->desc = desc;
    if (!set->devices)
        set->devices = g_ptr_array_new();
    /* On the list before realize: a half-realized device is destroyed too. */
    g_ptr_array_add(set->devices, dev);
    return desc->ops->realize(dev, ctx, error);
}

/* The set's wire for @kvm_irq on @vm_fd, made on first use. */
static struct irq_wire *wire_for(struct device_set *set, int vm_fd, uint32_t kvm_irq)
{
    struct irq_wire *w;

    if (!set->wires)
        set->wires = g_ptr_array_new();
    for (guint i = 0; i < set->wires->len; i++) {
        w = g_ptr_array_index(set->wires, i);
        if (w->vm_fd == vm_fd && w->kvm_irq == kvm_irq)
            return w;
    }
    w = g_new0(struct irq_wire, 1);
    irq_wire_init(w, vm_fd, kvm_irq);
    g_ptr_array_add(set->wires, w);
    return w;
}

bool devices_realize(struct device_set *set, const struct device_desc *table, size_t n,
                     unsigned boot, const struct device_ctx *ctx, int vm_fd,
                     uint32_t (*kvm_irq)(int irq), GError **error)
{
    void *bus = ctx->bus;

    for (size_t i = 0; i < n; i++) {
        const struct device_desc *d = &table[i];
        struct device_ctx c = *ctx;
        struct device *dev;

        if (!(d->flags & boot & DEVICE_BOOT_ANY) || (d->flags & DEVICE_OPTIONAL & ~boot))
            continue;
        c.vm_fd = vm_fd;
        c.irq_wired = vm_fd >= 0 && d->irq >= 0;
        if (c.irq_wired)
            irq_line_init_shared(&c.irq, wire_for(set, vm_fd, kvm_irq(d->irq)));
        c.bus = bus;
        if (!device_realize(set, d, &c, error))
            return false;
        /* The devices after a bus's host join that bus. */
        dev = nth(set, count(set) - 1);
        if (d->ops->bus)
            bus = d->ops->bus(dev);
    }
    return true;
}

void devices_reset(struct device_set *set)
{
    for (guint i = 0; i < count(set); i++) {
        struct device *dev = nth(set, i);

        if (dev->state && dev->desc->ops->reset)
            dev->desc->ops->reset(dev);
    }
}

void devices_destroy(struct device_set *set)
{
    /* Newest first: a later device may rely on an earlier one. */
    for (guint i = count(set); i > 0; i--) {
        struct device *dev = nth(set, i - 1);

        if (dev->state && dev->desc->ops->destroy)
            dev->desc->ops->destroy(dev);
        g_free(dev);
    }
    if (set->devices)
        g_ptr_array_free(set->devices, TRUE);
    set->devices = NULL;
    /* After the devices: their lines point at the wires. */
    for (guint i = 0; set->wires && i < set->wires->len; i++) {
        irq_wire_clear(g_ptr_array_index(set->wires, i));
        g_free(g_ptr_array_index(set->wires, i));
    }
    if (set->wires)
        g_ptr_array_free(set->wires, TRUE);
    set->wires = NULL;
}

int devices_fdt(const struct device_set *set, struct device_fdt *f)
{
    for (guint i = 0; i < count(set); i++) {
        const struct device *dev = nth(set, i);
        int err = dev->desc->ops->fdt ? dev->desc->ops->fdt(dev, f) : 0;

        if (err)
            return err;
    }
    return 0;
}

void devices_acpi(const struct device_set *set, struct device_acpi *a)
{
    for (guint i = 0; i < count(set); i++) {
        const struct device *dev = nth(set, i);

        if (dev->desc->ops->acpi)
            dev->desc->ops->acpi(dev, a);
    }
}

void *devices_state_of(const struct device_set *set, const struct device_ops *ops)
{
    for (guint i = 0; i < count(set); i++)
        if (nth(set, i)->desc->ops == ops)
            return nth(set, i)->state;
    return NULL;
}

const struct device *devices_stdout(const struct device_set *set)
{
    for (guint i = 0; i < count(set); i++)
        if (nth(set, i)->desc->flags & DEVICE_STDOUT)
            return nth(set, i);
    return NULL;
}
