/*
 * An interrupt line from a device model to KVM's in-kernel interrupt
 * controller (IOAPIC/PIC on x86_64, the GIC on aarch64). Devices own one
 * and set its level under their own lock; only changes reach KVM.
 */
#ifndef VMM_IRQ_H
#define VMM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

struct irq_line {
    int vm_fd;
    uint32_t kvm_irq; /* KVM_IRQ_LINE's irq: a GSI, or the GIC's encoding */
    int level;        /* last level sent, -1 before the first */
    bool failed;      /* reported once */
};

/* @vm_fd: the VM's KVM fd (KVM_IRQ_LINE is a VM ioctl). */
void irq_line_init(struct irq_line *line, int vm_fd, uint32_t kvm_irq);
/* Sends the level when it changed; returns -errno on failure (the
 * interrupt is then lost, which a guest survives: devices are polled too). */
int irq_line_set(struct irq_line *line, bool level);

#endif
