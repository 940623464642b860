/*
 * virtio-rng over PCI (src/devices/virtio_rng.c): a machine line with its
 * PCI slot as base, after the PCI host, and the slot's INTA as irq.
 */
#ifndef VMM_HW_VIRTIO_RNG_H
#define VMM_HW_VIRTIO_RNG_H

#include "vmm/device.h"

extern const struct device_ops virtio_rng_device;

#endif
