/*
 * How a guest ends the VM with a status of its choice: an isa-debug-exit
 * compatible register (status (v << 1) | 1), an exact-status register, and
 * on aarch64 the crash register written by vmm's default exception vectors.
 */
#ifndef VMM_HW_EXIT_DEVICE_H
#define VMM_HW_EXIT_DEVICE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

#define VMM_EXIT_REG_CRASH 0x8 /* MMIO only: written by vmm's exception vectors */

bool exit_device_register_pio(struct vm *vm, uint16_t debug_exit_port,
                              uint16_t status_port, GError **error);
bool exit_device_register_mmio(struct vm *vm, uint64_t base, uint64_t size,
                               GError **error);

#endif
