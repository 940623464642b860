/* An Arm PL011 UART: transmit to the console, receive from stdin, and an
 * interrupt once connected (Linux boots). */
#ifndef VMM_HW_PL011_H
#define VMM_HW_PL011_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

bool pl011_register(struct vm *vm, uint64_t base, GError **error);
/* Wires the PL011 at @base to KVM_IRQ_LINE's @kvm_irq (a GIC SPI). */
bool pl011_connect_irq(struct vm *vm, uint64_t base, uint32_t kvm_irq, GError **error);

#endif
