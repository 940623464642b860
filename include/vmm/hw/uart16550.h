/* A 16550A UART: transmit to the console, no receive yet. */
#ifndef VMM_HW_UART16550_H
#define VMM_HW_UART16550_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

bool uart16550_register(struct vm *vm, uint16_t port, GError **error);

#endif
