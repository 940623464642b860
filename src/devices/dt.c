/* The common start of a device's device-tree node (vmm/hw/dt.h). */
#include <glib.h>
#include <libfdt.h>

#include "vmm/device.h"
#include "vmm/hw/dt.h"

void device_fdt_node_name(const struct device *dev, char *buf, size_t size)
{
    g_snprintf(buf, size, "%s@%llx", dev->desc->ops->dt_name,
               (unsigned long long)dev->desc->base);
}

int device_fdt_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
    fdt64_t v[2] = { cpu_to_fdt64(a), cpu_to_fdt64(b) };

    return fdt_property(fdt, name, v, sizeof(v));
}

int device_fdt_begin(struct device_fdt *f, const struct device *dev, const char *compat,
                     size_t len)
{
    const struct device_desc *d = dev->desc;
    char name[48];
    int err;

    device_fdt_node_name(dev, name, sizeof(name));
    err = fdt_begin_node(f->fdt, name);
    err |= fdt_property(f->fdt, "compatible", compat, len);
    err |= device_fdt_u64_pair(f->fdt, "reg", d->base, d->size);
    if (d->irq >= 0) {
        uint32_t cells[4];
        unsigned n = f->irq_cells(d->irq, cells);

        for (unsigned i = 0; i < n; i++)
            cells[i] = cpu_to_fdt32(cells[i]);
        err |= fdt_property(f->fdt, "interrupts", cells, n * sizeof(cells[0]));
    }
    return err;
}

uint32_t device_fdt_apb_pclk(struct device_fdt *f, int *err)
{
    uint32_t clk;
    int e;

    if (f->apb_pclk)
        return f->apb_pclk;
    clk = f->next_phandle++;
    e = fdt_begin_node(f->fdt, "apb-pclk");
    e |= fdt_property_string(f->fdt, "compatible", "fixed-clock");
    e |= fdt_property_u32(f->fdt, "#clock-cells", 0);
    e |= fdt_property_u32(f->fdt, "clock-frequency", 24000000);
    e |= fdt_property_string(f->fdt, "clock-output-names", "clk24mhz");
    e |= fdt_property_u32(f->fdt, "phandle", clk);
    e |= fdt_end_node(f->fdt);
    *err |= e;
    if (!e)
        f->apb_pclk = clk;
    return e ? 0 : clk;
}
