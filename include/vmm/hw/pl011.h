/* An Arm PL011 UART: transmit to the console, receive from stdin, its
 * interrupt (a GIC SPI) once wired (Linux boots), and its device-tree
 * node with the clock it needs. */
#ifndef VMM_HW_PL011_H
#define VMM_HW_PL011_H

#include "vmm/device.h"

extern const struct device_ops pl011_device;

#endif
