/* A 16550A UART: transmit to the console, receive from stdin, and an
 * interrupt line once connected (Linux boots). */
#ifndef VMM_HW_UART16550_H
#define VMM_HW_UART16550_H

#include "vmm/device.h"

/* 8 ports at the table line's base; its IRQ (a GSI) once wired, and in
 * the ACPI tables as COM1. */
extern const struct device_ops uart16550_device;

#endif
