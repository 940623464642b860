/* The machine this architecture builds: its device table (machine.c). */
#ifndef VMM_ARCH_MACHINE_H
#define VMM_ARCH_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/device.h"

struct vm;

extern const struct device_desc machine_devices[];
extern const size_t machine_nr_devices;

/* KVM_IRQ_LINE's number for the table's interrupt @irq. */
uint32_t machine_kvm_irq(int irq);
/* Realizes the lines for @vm's boot kind into vm->devices; interrupts
 * are wired on Linux boots (the in-kernel irqchip they need). */
bool machine_realize(struct vm *vm, GError **error);

#endif
