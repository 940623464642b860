/*
 * The PCI host bridge (src/devices/pci_host.c). Its machine line's base
 * and size are its ECAM area (bus 0: 1 MiB); its params, a struct
 * pci_host_params, say where the BARs' memory window and I/O window are
 * and whether the legacy configuration ports 0xcf8/0xcfc exist too.
 */
#ifndef VMM_HW_PCI_HOST_H
#define VMM_HW_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/hw/pci.h"

struct pci_host_params {
    uint64_t window_base, window_size; /* below 4 GiB: 32-bit BARs */
    /* The I/O window: bus I/O addresses [io_base, io_base + io_size), for
     * I/O BARs; io_size 0: none. Where the CPU has no port I/O (aarch64)
     * the window appears as MMIO at io_mmio_base (the device tree's I/O
     * range); io_mmio_base 0: as the ports themselves (x86_64). */
    uint32_t io_base, io_size;
    uint64_t io_mmio_base;
    bool conf1;
    /* INTx: slot s's pin p (INTA = 0) is the machine's interrupt
     * intx_base + (s + p) % 4 (an IOAPIC GSI, a GIC SPI). */
    bool intx;
    unsigned intx_base;
};

extern const struct device_ops pci_host_device;

/* The machine interrupt of @slot's INTx pin @pin (0: INTA), -1 without INTx. */
int pci_host_intx_irq(const struct pci_host_params *p, unsigned slot, unsigned pin);
/* The bus of a realized host bridge (NULL before realize). */
struct pci_bus *pci_host_bus(const struct device *dev);

#endif
