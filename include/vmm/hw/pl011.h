/* An Arm PL011 UART: transmit to the console, no receive yet. */
#ifndef VMM_HW_PL011_H
#define VMM_HW_PL011_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

bool pl011_register(struct vm *vm, uint64_t base, GError **error);

#endif
