/*
 * A device model's life in a VM. A machine (src/arch/<arch>/machine.c)
 * is a table of struct device_desc: which model, at which address, with
 * which interrupt, on which kind of boot. Building the VM realizes each
 * line (the model allocates its state and claims its ranges in the I/O
 * registry); the platform description the guest boots with (aarch64's
 * device tree, x86_64's ACPI tables) is written by walking the realized
 * devices' hooks; vm_destroy() destroys them, newest first, once no vCPU
 * runs.
 *
 * A model sees a narrow context (struct device_ctx), not the VM: the
 * registry, the console, and its interrupt line when one is wired.
 */
#ifndef VMM_DEVICE_H
#define VMM_DEVICE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/irq.h"
#include "vmm/irq_routes.h"

struct console;
struct device;
struct device_ctx;
struct device_acpi;
struct device_fdt;
struct guest_mem;
struct iobus;

/* A machine table line's flags: the boots it is for, and more. */
#define DEVICE_BOOT_FIRMWARE 0x1
#define DEVICE_BOOT_LINUX    0x2
#define DEVICE_BOOT_ANY      (DEVICE_BOOT_FIRMWARE | DEVICE_BOOT_LINUX)
#define DEVICE_STDOUT        0x4  /* the console the device tree names in /chosen */
/* Devices the VM's config turns on: a line with one of these is realized
 * only when the boot mask given to devices_realize() has it too. */
#define DEVICE_PCI_TESTDEV   0x8  /* [vm] pci-test-device */
#define DEVICE_VSOCK         0x10 /* [vsock] cid: virtio-vsock */
#define DEVICE_PC_TESTDEV    0x20 /* [vm] pc-test-device (x86_64) */
#define DEVICE_HYPERV_TESTDEV 0x40 /* [vm] hyperv-test-device (x86_64) */
#define DEVICE_OPTIONAL      (DEVICE_PCI_TESTDEV | DEVICE_VSOCK | DEVICE_PC_TESTDEV | \
                              DEVICE_HYPERV_TESTDEV)

struct device_ops {
    const char *name;     /* the model, for messages */
    const char *dt_name;  /* its device-tree node name (before "@base"), if it has one */
    /* Allocates dev->state and claims the device's ranges. On failure the
     * device stays on its list, so destroy frees what realize allocated. */
    bool (*realize)(struct device *dev, const struct device_ctx *ctx, GError **error);
    /* Back to the power-on state (registers, FIFOs, interrupt level). */
    void (*reset)(struct device *dev);
    /* Frees dev->state (called only when it is set). */
    void (*destroy)(struct device *dev);
    /* Its device-tree node(s) (aarch64); libfdt's error, 0 for none. */
    int (*fdt)(const struct device *dev, struct device_fdt *f);
    /* Its part of the ACPI tables (x86_64 Linux boots). */
    void (*acpi)(const struct device *dev, struct device_acpi *a);
    /* A bus host (the PCI host bridge): the bus the table's later lines
     * join, handed to them as ctx->bus. */
    void *(*bus)(const struct device *dev);
};

/* One line of a machine table. */
struct device_desc {
    const struct device_ops *ops;
    uint64_t base;        /* its first port or MMIO address */
    uint64_t size;        /* the span of its registers (MMIO: the device tree's reg) */
    int irq;              /* the machine's interrupt number (ISA IRQ, GIC SPI), -1: none */
    unsigned flags;       /* DEVICE_BOOT_*, DEVICE_STDOUT */
    const void *params;   /* the model's own parameters, if it takes any (its header says) */
};

/* What a model may touch while it is realized. */
/* A disk of the VM (its config's [[disk]]): the backing image of a
 * virtio-blk device. The machine tables have VMM_MAX_DISKS virtio-blk
 * lines; line n takes the VM's disk n and stays empty without one. */
#define VMM_MAX_DISKS 8
#define VMM_DISK_SERIAL_MAX 20  /* virtio-blk's GET_ID: 20 bytes */
struct device_disk {
    char *path;
    char *serial;         /* NULL: none (GET_ID answers 20 NUL bytes) */
    bool readonly;
};
/* A folder of the host the guest mounts (its config's [[share]]): a
 * virtio-fs device served by a virtiofsd that vmm starts for it. The
 * machine tables have VMM_MAX_SHARES virtio-fs lines; line n takes share n. */
#define VMM_MAX_SHARES 4
#define VMM_SHARE_TAG_MAX 36    /* virtio-fs's config: tag[36], no NUL needed */
struct device_share {
    char *path;
    char *tag;            /* what the guest mounts: mount -t virtiofs TAG DIR */
    bool readonly;        /* enforced by the host (a read-only bind mount) */
};

/* The guest CIDs a VM's vsock device may have ([vsock] cid): 0, 1 and 2
 * are the hypervisor's, the local loopback's and the host's, and -1
 * (2^32 - 1) means any; vhost takes 32-bit CIDs only. */
#define VMM_VSOCK_CID_MIN 3
#define VMM_VSOCK_CID_MAX 0xfffffffeULL

struct device_ctx {
    struct iobus *iobus;
    struct console *console;
    const struct guest_mem *mem; /* the guest's memory (DMA-capable devices) */
    int vm_fd;            /* the VM's KVM fd when it has an in-kernel irqchip (for
                           * KVM_IOEVENTFD), else -1: devices_realize() sets it */
    bool irq_wired;       /* @irq is live: the VM has an in-kernel irqchip */
    /* The VM signals MSIs (KVM_SIGNAL_MSI on @vm_fd) with these flags: PCI
     * functions may offer MSI-X (machine_msi() says, per arch). */
    bool msi;
    uint32_t msi_flags;
    /* The VM's routing table (with @msi): a function whose backend signals
     * an eventfd routes its vectors there and binds irqfds (vmm/irq_routes.h). */
    struct irq_routes *routes;
    struct irq_line irq;
    void *bus;            /* the bus of the last bus host realized before (e.g. a
                           * struct pci_bus), NULL if none */
    uint64_t ram_size;    /* the machine's, for devices that describe it (fw_cfg) */
    unsigned nr_vcpus;
    const struct device_disk *disks; /* the VM's, during realize only (models copy) */
    unsigned nr_disks;
    uint64_t vsock_cid;   /* [vsock] cid: the guest's vsock address, 0: none */
    const struct device_share *shares; /* the same for the VM's shares */
    unsigned nr_shares;
};

struct device {
    const struct device_desc *desc;
    void *state;
};

/* A VM's devices, in the order they were realized. */
struct device_set {
    GPtrArray *devices; /* of struct device * */
    GPtrArray *wires;   /* of struct irq_wire *: one per interrupt the devices use */
};

/* Realizes every line of @table that is for @boot (DEVICE_BOOT_*, with the
 * DEVICE_OPTIONAL devices the VM has). Each
 * line's context is @ctx with, when @vm_fd >= 0 and the line has an
 * interrupt, its line wired to KVM_IRQ_LINE number @kvm_irq(desc->irq),
 * through the set's one wire for that interrupt (lines that share it
 * assert it together: vmm/irq.h). */
bool devices_realize(struct device_set *set, const struct device_desc *table, size_t n,
                     unsigned boot, const struct device_ctx *ctx, int vm_fd,
                     uint32_t (*kvm_irq)(int irq), GError **error);
/* One device, with exactly @ctx. */
bool device_realize(struct device_set *set, const struct device_desc *desc,
                    const struct device_ctx *ctx, GError **error);
void devices_reset(struct device_set *set);
/* Newest first; the set is empty afterwards (twice is harmless). */
void devices_destroy(struct device_set *set);
/* The device-tree hooks in order; the first libfdt error, or 0. */
int devices_fdt(const struct device_set *set, struct device_fdt *f);
void devices_acpi(const struct device_set *set, struct device_acpi *a);
/* The state of the first device of model @ops, or NULL if there is none
 * (for a model that works with another: S3's wake-up at the RTC's alarm). */
void *devices_state_of(const struct device_set *set, const struct device_ops *ops);
/* The device the device tree's stdout-path names, or NULL. */
const struct device *devices_stdout(const struct device_set *set);

#endif
