/*
 * The machine a VM is: each architecture's device table
 * (src/arch/<arch>/machine.c, one line per device, see vmm/device.h and
 * docs/devices.md), realized for the VM's boot kind (core/machine.c).
 */
#ifndef VMM_MACHINE_H
#define VMM_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

/* src/arch/<arch>/machine.c */
extern const struct device_desc machine_devices[];
extern const size_t machine_nr_devices;
/* KVM_IRQ_LINE's number for the table's interrupt @irq. */
uint32_t machine_kvm_irq(int irq);
/* Whether @vm's PCI functions can signal MSIs, and KVM_SIGNAL_MSI's flags
 * for them (aarch64: through the GICv3 ITS, with a device ID). */
bool machine_msi(const struct vm *vm, uint32_t *kvm_flags);

/* Realizes the lines for @vm's boot kind into vm->devices; interrupts are
 * wired on Linux boots (which create the in-kernel irqchip they need). */
bool machine_realize(struct vm *vm, GError **error);

#endif
