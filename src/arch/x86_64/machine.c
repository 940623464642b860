/*
 * The x86_64 machine: a PC's legacy devices at their usual ports.
 *
 * A new device is one file in src/devices/ (its struct device_ops) and
 * one line here: where it is, its interrupt (an ISA IRQ, the GSI KVM's
 * IOAPIC wires to it), and for which boots. Its ACPI description comes
 * from its ops' acpi hook (docs/devices.md).
 */
#include "vmm-guest/platform.h"
#include "vmm/hw/acpi_pm1.h"
#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/exit_device.h"
#include "vmm/hw/fw_cfg.h"
#include "vmm/hw/hyperv_testdev.h"
#include "vmm/hw/i8042.h"
#include "vmm/hw/mc146818.h"
#include "vmm/hw/pc_testdev.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/pci_testdev.h"
#include "vmm/hw/uart16550.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_fs.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_rng.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/machine.h"
#include "vmm/vm.h"

#define COM1_IRQ 4

/* PCI INTx: IOAPIC pins 16-19 (above the ISA IRQs), slot-swizzled. */
#define PCI_INTX_GSI 16
#define PCI_INTA(slot) (PCI_INTX_GSI + (slot) % 4)

static const struct pci_host_params pci = {
    .window_base = VMM_X86_PCI_WINDOW_BASE, .window_size = VMM_X86_PCI_WINDOW_SIZE,
    .io_base = VMM_X86_PCI_IO_BASE, .io_size = VMM_X86_PCI_IO_SIZE,
    .conf1 = true, .intx = true, .intx_base = PCI_INTX_GSI,
};

const struct device_desc machine_devices[] = {
    /* model               base                     size irq       flags */
    { &uart16550_device,   VMM_X86_COM1_PORT,       8,   COM1_IRQ, DEVICE_BOOT_ANY },
    { &debug_exit_device,  VMM_X86_DEBUG_EXIT_PORT, 4,   -1,       DEVICE_BOOT_ANY },
    { &exit_status_device, VMM_X86_EXIT_PORT,       4,   -1,       DEVICE_BOOT_ANY },
    /* Linux reboots through the i8042 and powers off through ACPI. */
    { &i8042_device,       I8042_DATA_PORT,         5,   -1,       DEVICE_BOOT_LINUX },
    { &acpi_sleep_device,  ACPI_SLEEP_CONTROL_PORT, 2,   -1,       DEVICE_BOOT_LINUX },
    /* S3 the legacy way (kvm-unit-tests' s3), woken by the RTC's alarm. */
    { &acpi_pm1_device,    ACPI_PM1_EVT_PORT,       ACPI_PM1_PORTS, -1, DEVICE_BOOT_LINUX },
    { &mc146818_device,    MC146818_INDEX_PORT,     2,   MC146818_IRQ, DEVICE_BOOT_LINUX },
    /* What kvm-unit-tests' multiboot images read: the CPU count, RAM size. */
    { &fw_cfg_device,      FW_CFG_PORT,             2,   -1,       DEVICE_BOOT_LINUX },
    { &pci_host_device,    VMM_X86_PCI_ECAM_BASE,   VMM_PCI_ECAM_SIZE, -1, DEVICE_BOOT_LINUX, &pci },
    /* PCI devices: base is the slot; after the host, whose bus they join. */
    { &virtio_console_device, 1,                    0,   PCI_INTA(1), DEVICE_BOOT_LINUX },
    { &virtio_rng_device,     2,                    0,   PCI_INTA(2), DEVICE_BOOT_LINUX },
    /* The VM's disks, slots 3-10: a line without a disk stays empty. */
    VIRTIO_BLK_LINES(PCI_INTA),
    /* The VM's shares, slots 11-14, the same way. */
    VIRTIO_FS_LINES(PCI_INTA),
    /* virtio-vsock, slot 15, when the config gives the VM a CID. */
    VIRTIO_VSOCK_LINE(15, PCI_INTA(15)),
    /* kvm-unit-tests' PCI test device, when the config asks for it; no INTx. */
    { &pci_testdev_device,    31,                   0,   -1,          DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV },
    /* kvm-unit-tests' x86 test ports, when the config asks for them. */
    { &pc_testdev_device,  PC_TESTDEV_DATA_PORT,    4,   -1,       DEVICE_BOOT_LINUX | DEVICE_PC_TESTDEV },
    /* kvm-unit-tests' Hyper-V test device, when the config asks for it. */
    { &hyperv_testdev_device, HYPERV_TESTDEV_PORT,  4,   -1,       DEVICE_BOOT_LINUX | DEVICE_HYPERV_TESTDEV },
};
const size_t machine_nr_devices = G_N_ELEMENTS(machine_devices);

uint32_t machine_kvm_irq(int irq)
{
    return irq; /* KVM's IOAPIC wires ISA IRQ n to GSI n */
}

bool machine_msi(const struct vm *vm, uint32_t *kvm_flags)
{
    /* The local APICs take the message as the guest wrote it. */
    *kvm_flags = 0;
    return true;
}
