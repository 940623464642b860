/*
 * How a guest ends the VM with a status of its choice: an isa-debug-exit
 * compatible register (status (v << 1) | 1), an exact-status register, and
 * on aarch64 the crash register written by vmm's default exception vectors.
 * On port I/O each register is a device of its own (4 ports at the table
 * line's base); on MMIO one page holds the three.
 */
#ifndef VMM_HW_EXIT_DEVICE_H
#define VMM_HW_EXIT_DEVICE_H

#include "vmm/device.h"

#define VMM_EXIT_REG_CRASH 0x8 /* MMIO only: written by vmm's exception vectors */

extern const struct device_ops debug_exit_device;  /* port I/O */
extern const struct device_ops exit_status_device; /* port I/O */
extern const struct device_ops exit_mmio_device;   /* MMIO, in the device tree */

#endif
