/*
 * virtio-console over PCI (src/devices/virtio_console.c): a machine line
 * with its PCI slot as base, after the PCI host, and the slot's INTA as irq.
 */
#ifndef VMM_HW_VIRTIO_CONSOLE_H
#define VMM_HW_VIRTIO_CONSOLE_H

#include "vmm/device.h"

extern const struct device_ops virtio_console_device;

#endif
