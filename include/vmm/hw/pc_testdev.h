/*
 * pc-testdev (src/devices/pc_testdev.c): the x86 test ports kvm-unit-tests'
 * emulator, realmode and ioapic tests use, as QEMU's `-device pc-testdev`
 * places them. A machine line with the data port as base; realized only
 * when the VM's config asks for it ([vm] pc-test-device, the line's
 * DEVICE_PC_TESTDEV flag), on kernel boots (the IRQ lines need KVM's
 * in-kernel interrupt controllers).
 *
 *   ports 0xe0-0xe3    a 32-bit register: a write of 1, 2 or 4 bytes at
 *                      0xe0 + n replaces those bytes, a read returns them
 *   ports 0x2000-0x2017  ISA/IOAPIC line n = 0x2000 + n: a 1-byte write
 *                      sets its level (0, or 1 for any other value)
 *   MMIO 0xff000000-0xff00ffff  64 KiB that reads back what was written
 *                      (through MMIO exits: the emulator test's MMIO page)
 *
 * QEMU's 0xe4 (flush a page from the host's TLB) and 0xe8 (the byte-wise
 * register, where vmm has its ucall doorbell) are not here.
 */
#ifndef VMM_HW_PC_TESTDEV_H
#define VMM_HW_PC_TESTDEV_H

#include "vmm/device.h"

#define PC_TESTDEV_DATA_PORT   0xe0
#define PC_TESTDEV_IRQ_PORT    0x2000
#define PC_TESTDEV_NR_IRQS     24
#define PC_TESTDEV_IOMEM_BASE  0xff000000ULL
#define PC_TESTDEV_IOMEM_SIZE  0x10000

extern const struct device_ops pc_testdev_device;

#endif
