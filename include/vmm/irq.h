/*
 * An interrupt line from a device model to KVM's in-kernel interrupt
 * controller (IOAPIC/PIC on x86_64, the GIC on aarch64). Devices own one
 * and set its level under their own lock; only changes reach KVM.
 *
 * KVM keeps one level per interrupt for all of vmm (KVM_IRQ_LINE has no
 * notion of who drives it), so devices that share an interrupt (PCI INTx
 * pins: slots 1, 5, 9 all have the same) share an irq_wire: the interrupt
 * is asserted while any of their lines is, and one device lowering its
 * line does not take the level from another that still asserts it.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct irq_wire {
    GMutex lock;      /* a leaf: taken under the devices' own locks */
    int vm_fd;
    uint32_t kvm_irq;
    unsigned asserted; /* lines at level 1 */
    int level;        /* last level sent, -1 before the first */
    bool failed;      /* reported once */
};

struct irq_line {
    int vm_fd;
    uint32_t kvm_irq; /* KVM_IRQ_LINE's irq: a GSI, or the GIC's encoding */
    int level;        /* last level set, -1 before the first */
    bool failed;      /* reported once */
    struct irq_wire *wire; /* the interrupt's, when it may be shared; NULL: its own */
};

void irq_wire_init(struct irq_wire *wire, int vm_fd, uint32_t kvm_irq);
void irq_wire_clear(struct irq_wire *wire);
/* A line on @wire (which outlives it). */
void irq_line_init_shared(struct irq_line *line, struct irq_wire *wire);

/* @vm_fd: the VM's KVM fd (KVM_IRQ_LINE is a VM ioctl). */
void irq_line_init(struct irq_line *line, int vm_fd, uint32_t kvm_irq);
/* Sends the level when it changed; returns -errno on failure (the
 * interrupt is then lost, which a guest survives: devices are polled too). */
int irq_line_set(struct irq_line *line, bool level);

#endif
