/* A 16550A UART: transmit to the console, receive from stdin, and an
 * interrupt line once connected (Linux boots). */
#ifndef VMM_HW_UART16550_H
#define VMM_HW_UART16550_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

bool uart16550_register(struct vm *vm, uint16_t port, GError **error);
/* Wires the UART at @port to interrupt @gsi (needs an in-kernel irqchip). */
bool uart16550_connect_irq(struct vm *vm, uint16_t port, uint32_t gsi, GError **error);

#endif
