/*
 * The subset of QEMU's fw_cfg (docs/specs/fw_cfg.rst in QEMU) that
 * kvm-unit-tests' x86 library reads: a 16-bit selector port at the table
 * line's base and a byte-wide data port after it. It answers the
 * signature, the interface ID (no DMA), the RAM size and the CPU count
 * (and most CPUs); every other item reads as zeros, as an absent item does
 * on QEMU. No files, no DMA, no writes.
 */
#ifndef VMM_HW_FW_CFG_H
#define VMM_HW_FW_CFG_H

#include "vmm/device.h"

#define FW_CFG_PORT          0x510   /* selector; data at FW_CFG_PORT + 1 */
#define FW_CFG_SIGNATURE     0x00
#define FW_CFG_ID            0x01
#define FW_CFG_RAM_SIZE      0x03
#define FW_CFG_NB_CPUS       0x05
#define FW_CFG_MAX_CPUS      0x0f

extern const struct device_ops fw_cfg_device;

#endif
