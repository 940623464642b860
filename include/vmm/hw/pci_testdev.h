/*
 * pci-testdev (src/devices/pci_testdev.c): the PCI test device
 * kvm-unit-tests looks for, with QEMU's IDs and register header. A machine
 * line with its PCI slot as base, after the PCI host; no interrupt. It is
 * realized only when the VM's config asks for it ([vm] pci-test-device,
 * the line's DEVICE_PCI_TESTDEV flag).
 *
 * BAR 0 (memory) and BAR 1 (I/O) each start with the same header, little
 * endian:
 *   0x00 test   (u8)  write: select test n (and zero its count); read: n
 *   0x01 width  (u8)  the selected test's write width: 1, 2 or 4; 0 when
 *                     this BAR has no test n (the guest's scan ends there)
 *   0x04 offset (u32) where in the BAR the test's writes go (its doorbell)
 *   0x08 data   (u32) the value to write
 *   0x0c count  (u32) the writes counted since the test was selected
 *   0x10 name   NUL-terminated ASCII, for the guest's log
 * A write at the doorbell counts when it has the test's width (and, for a
 * test that matches data, the test's value); every other write is
 * ignored, and reads outside the header read as zero.
 */
#ifndef VMM_HW_PCI_TESTDEV_H
#define VMM_HW_PCI_TESTDEV_H

#include "vmm/device.h"

#define PCI_TESTDEV_VENDOR   0x1b36   /* QEMU's (Red Hat's) PCI vendor ID */
#define PCI_TESTDEV_DEVICE   0x0005
#define PCI_TESTDEV_MEM_BAR  0
#define PCI_TESTDEV_IO_BAR   1
#define PCI_TESTDEV_MEM_SIZE 0x1000
#define PCI_TESTDEV_IO_SIZE  0x100

#define PCI_TESTDEV_REG_TEST   0x00
#define PCI_TESTDEV_REG_WIDTH  0x01
#define PCI_TESTDEV_REG_OFFSET 0x04
#define PCI_TESTDEV_REG_DATA   0x08
#define PCI_TESTDEV_REG_COUNT  0x0c
#define PCI_TESTDEV_REG_NAME   0x10
#define PCI_TESTDEV_HEADER_SIZE 0x30  /* the name's NUL included */
#define PCI_TESTDEV_NR_TESTS   3      /* on each BAR: tests 0 to 2 */

extern const struct device_ops pci_testdev_device;

#endif
