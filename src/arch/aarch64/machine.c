/*
 * The aarch64 machine: QEMU virt's PL011 and PL031 addresses and SPIs,
 * and vmm's exit device.
 *
 * A new device is one file in src/devices/ (its struct device_ops) and
 * one line here: where it is, its interrupt (a GIC SPI), and for which
 * boots. Its device-tree node comes from its ops' fdt hook
 * (docs/devices.md).
 */
#include "vmm-guest/platform.h"
#include "vmm/kvm.h" /* after platform.h: its PSCI numbers come first */
#include "vmm/hw/exit_device.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/pci_testdev.h"
#include "vmm/hw/pl011.h"
#include "vmm/hw/pl031.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_fs.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_rng.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

#define PL011_SPI 1 /* as on QEMU's virt machine */
#define PL031_SPI 2 /* the same */

/* PCI INTx: SPIs 3-6, slot-swizzled, as on QEMU's virt machine. */
#define PCI_INTX_SPI 3
#define PCI_INTA(slot) (PCI_INTX_SPI + (slot) % 4)

static const struct pci_host_params pci = {
    .window_base = VMM_ARM_PCI_WINDOW_BASE, .window_size = VMM_ARM_PCI_WINDOW_SIZE,
    .io_base = 0, .io_size = VMM_ARM_PCI_IO_SIZE, .io_mmio_base = VMM_ARM_PCI_IO_BASE,
    .intx = true, .intx_base = PCI_INTX_SPI,
};

const struct device_desc machine_devices[] = {
    /* model             base                size                irq        flags */
    { &pl011_device,     VMM_ARM_PL011_BASE, VMM_ARM_PL011_SIZE, PL011_SPI, DEVICE_BOOT_ANY | DEVICE_STDOUT },
    { &pl031_device,     VMM_ARM_PL031_BASE, VMM_ARM_PL031_SIZE, PL031_SPI, DEVICE_BOOT_ANY },
    { &exit_mmio_device, VMM_ARM_EXIT_BASE,  VMM_ARM_EXIT_SIZE,  -1,        DEVICE_BOOT_ANY },
    { &pci_host_device,  VMM_ARM_PCI_ECAM_BASE, VMM_PCI_ECAM_SIZE, -1,       DEVICE_BOOT_LINUX, &pci },
    /* PCI devices: base is the slot; after the host, whose bus they join. */
    { &virtio_console_device, 1,                0,                 PCI_INTA(1), DEVICE_BOOT_LINUX },
    { &virtio_rng_device,     2,                0,                 PCI_INTA(2), DEVICE_BOOT_LINUX },
    /* The VM's disks, slots 3-10: a line without a disk stays empty. */
    VIRTIO_BLK_LINES(PCI_INTA),
    /* The VM's shares, slots 11-14, the same way. */
    VIRTIO_FS_LINES(PCI_INTA),
    /* virtio-vsock, slot 15, when the config gives the VM a CID. */
    VIRTIO_VSOCK_LINE(15, PCI_INTA(15)),
    /* kvm-unit-tests' PCI test device, when the config asks for it; no INTx. */
    { &pci_testdev_device,    31,                   0,   -1,          DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV },
};
const size_t machine_nr_devices = G_N_ELEMENTS(machine_devices);

uint32_t machine_kvm_irq(int irq)
{
    /* SPI n is the GIC's interrupt 32 + n. */
    return (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | (32 + irq);
}

bool machine_msi(const struct vm *vm, uint32_t *kvm_flags)
{
    /* The ITS maps a message to an LPI by the sender's device ID: the
     * function's requester ID, as the device tree's msi-map says. */
    *kvm_flags = KVM_MSI_VALID_DEVID;
    return vm->arch.its;
}
