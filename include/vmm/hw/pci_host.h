/*
 * The PCI host bridge (src/devices/pci_host.c). Its machine line's base
 * and size are its ECAM area (bus 0: 1 MiB); its params, a struct
 * pci_host_params, say where the BARs' memory window is and whether the
 * legacy configuration ports 0xcf8/0xcfc exist too.
 */
#ifndef VMM_HW_PCI_HOST_H
#define VMM_HW_PCI_HOST_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/hw/pci.h"

struct pci_host_params {
    uint64_t window_base, window_size; /* below 4 GiB: 32-bit BARs */
    bool conf1;
};

extern const struct device_ops pci_host_device;

/* The bus of a realized host bridge (NULL before realize). */
struct pci_bus *pci_host_bus(const struct device *dev);

#endif
