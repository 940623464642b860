/* Writing a device's device-tree node (aarch64): the hook's context and
 * the properties every memory-mapped device node starts with. */
#ifndef VMM_HW_DT_H
#define VMM_HW_DT_H

#include <stddef.h>
#include <stdint.h>

struct device;

struct device_fdt {
    void *fdt;               /* libfdt's sequential-write tree, inside the root node */
    uint32_t next_phandle;   /* the next free phandle; a hook that takes one bumps it */
    uint32_t apb_pclk;       /* the AMBA bus clock's phandle, 0 until a hook wrote it */
    uint32_t intc_phandle;   /* the interrupt controller's (interrupt-map) */
    unsigned intc_address_cells; /* its #address-cells: interrupt-map's parent
                                  * unit address (2 once the GIC has an ITS child) */
    uint32_t msi_phandle;    /* the MSI controller's (a PCI host's msi-map), 0: none */
    /* The interrupt specifier of the machine's @irq, in host order: how
     * many cells (the controller's #interrupt-cells, at most 4). */
    unsigned (*irq_cells)(int irq, uint32_t cells[4]);
};

/* "<dt_name>@<base in hex>" into @buf. */
void device_fdt_node_name(const struct device *dev, char *buf, size_t size);
/* Begins the device's node with its compatible list (@compat: @len bytes
 * of NUL-terminated strings), its reg <base size> and, when it has an
 * interrupt, its interrupts. The hook adds its own and ends the node. */
int device_fdt_begin(struct device_fdt *f, const struct device *dev, const char *compat,
                     size_t len);
/* The phandle of the fixed 24 MHz clock every PrimeCell device names as
 * its "apb_pclk" (Linux's AMBA bus enables it before it reads the IDs):
 * written as a root node by the first hook that asks, between nodes;
 * 0 with *err set when libfdt failed. */
uint32_t device_fdt_apb_pclk(struct device_fdt *f, int *err);
/* A property of two 64-bit cells pairs (#address-cells = #size-cells = 2). */
int device_fdt_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b);

#endif
