/*
 * pc-testdev: QEMU's x86 test ports (vmm/hw/pc_testdev.h) for
 * kvm-unit-tests. The data register and the MMIO buffer give the
 * instruction emulator something to read back (string I/O, MMIO that
 * crosses pages); the IRQ ports let a test raise and lower interrupt lines
 * without a device, to test the IOAPIC and the PIC.
 *
 * The IRQ ports drive KVM's lines directly, not through the machine's
 * shared wires: a test that pulses a line a device also uses (COM1's 4)
 * overrides that device's level, as on QEMU.
 */
#include <string.h>

#include "vmm/error.h"
#include "vmm/hw/pc_testdev.h"
#include "vmm/iobus.h"
#include "vmm/irq.h"

struct pc_testdev {
    GMutex lock;           /* data, iomem, the lines' levels */
    uint32_t data;
    uint8_t iomem[PC_TESTDEV_IOMEM_SIZE];
    struct irq_line irqs[PC_TESTDEV_NR_IRQS];
    bool irqs_wired;
};

static void data_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                    unsigned len, bool is_write)
{
    struct pc_testdev *t = opaque;
    uint8_t bytes[4];

    (void)vcpu;
    if (offset >= 4 || len > 4 - offset) {  /* a 4-byte access at 0xe1..0xe3 */
        if (!is_write)
            memset(data, 0xff, len);
        return;
    }
    g_mutex_lock(&t->lock);
    memcpy(bytes, &t->data, 4);             /* little-endian host: x86_64 only */
    if (is_write) {
        memcpy(bytes + offset, data, len);
        memcpy(&t->data, bytes, 4);
    } else {
        memcpy(data, bytes + offset, len);
    }
    g_mutex_unlock(&t->lock);
}

static void irq_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    struct pc_testdev *t = opaque;

    (void)vcpu;
    if (!is_write) {
        memset(data, 0xff, len);
        return;
    }
    /* QEMU takes 1-byte writes only; the line is the port's. */
    if (len != 1 || offset >= PC_TESTDEV_NR_IRQS || !t->irqs_wired)
        return;
    g_mutex_lock(&t->lock);
    irq_line_set(&t->irqs[offset], data[0] != 0);
    g_mutex_unlock(&t->lock);
}

static void iomem_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                     unsigned len, bool is_write)
{
    struct pc_testdev *t = opaque;

    (void)vcpu;
    if (offset >= PC_TESTDEV_IOMEM_SIZE || len > PC_TESTDEV_IOMEM_SIZE - offset) {
        if (!is_write)
            memset(data, 0xff, len);
        return;
    }
    g_mutex_lock(&t->lock);
    if (is_write)
        memcpy(t->iomem + offset, data, len);
    else
        memcpy(data, t->iomem + offset, len);
    g_mutex_unlock(&t->lock);
}

static bool pc_testdev_realize(struct device *dev, const struct device_ctx *ctx,
                               GError **error)
{
    struct pc_testdev *t = g_new0(struct pc_testdev, 1);

    dev->state = t;
    g_mutex_init(&t->lock);
    if (ctx->vm_fd >= 0) {
        for (unsigned i = 0; i < PC_TESTDEV_NR_IRQS; i++)
            irq_line_init(&t->irqs[i], ctx->vm_fd, i);  /* ISA IRQ n is GSI n */
        t->irqs_wired = true;
    }
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 4, data_io, t,
                          "pc-testdev", error) &&
           iobus_register(ctx->iobus, IOBUS_PIO, PC_TESTDEV_IRQ_PORT, PC_TESTDEV_NR_IRQS,
                          irq_io, t, "pc-testdev-irq", error) &&
           iobus_register(ctx->iobus, IOBUS_MMIO, PC_TESTDEV_IOMEM_BASE, PC_TESTDEV_IOMEM_SIZE,
                          iomem_io, t, "pc-testdev-iomem", error);
}

static void pc_testdev_reset(struct device *dev)
{
    struct pc_testdev *t = dev->state;

    g_mutex_lock(&t->lock);
    t->data = 0;
    memset(t->iomem, 0, sizeof(t->iomem));
    if (t->irqs_wired)
        for (unsigned i = 0; i < PC_TESTDEV_NR_IRQS; i++)
            if (t->irqs[i].level > 0)
                irq_line_set(&t->irqs[i], false);
    g_mutex_unlock(&t->lock);
}

static void pc_testdev_destroy(struct device *dev)
{
    struct pc_testdev *t = dev->state;

    g_mutex_clear(&t->lock);
    g_free(t);
}

const struct device_ops pc_testdev_device = {
    .name = "pc-testdev",
    .realize = pc_testdev_realize,
    .reset = pc_testdev_reset,
    .destroy = pc_testdev_destroy,
};
