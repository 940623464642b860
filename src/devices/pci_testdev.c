/*
 * pci-testdev: the PCI test device of kvm-unit-tests' pci-test (arm64) and
 * vmexit's pci-mem/pci-io cases (x86_64): QEMU's IDs and register header
 * (vmm/hw/pci_testdev.h), so that the suite's driver finds and drives it
 * unchanged. It proves the path of a guest's MMIO and port I/O writes
 * through vmm's PCI host: BARs the guest sized and placed, widths 1, 2
 * and 4, each write counted exactly once.
 *
 * Every doorbell write exits to vmm and is counted here; none goes to a
 * KVM ioeventfd (QEMU's eventfd tests leave their count at 0, which the
 * test library accepts; here the count is always the number of writes).
 *
 * vmm assigns both BARs and turns decoding on at power-on, as firmware
 * leaves a device it set up: x86_64 test images take the BARs as they find
 * them; arm64 ones (and Linux) move them.
 */
#include <string.h>

#include "vmm/error.h"
#include "vmm/hw/pci.h"
#include "vmm/hw/pci_testdev.h"

#define CLASS_OTHER 0xff0000     /* unassigned class, as QEMU's */
#define DOORBELL(n) (0x40U + 0x10U * (n))  /* test n's writes go here */

struct testdev_test {
    const char *name;   /* shorter than the header's name field */
    uint8_t width;
    uint32_t data;
    bool match;         /* only writes of @data count */
};

static const struct testdev_test tests[PCI_TESTDEV_NR_TESTS] = {
    { "write8", 1, 0x5a, false },
    { "write16", 2, 0x5aa5, false },
    { "write32-datamatch", 4, 0x5aa5c33c, true },
};

/* One BAR's selected test and its count. */
struct testdev_bar {
    uint8_t test;
    uint32_t count;
};

struct pci_testdev;

/* A BAR handler's opaque: the device and that BAR's state. */
struct bar_ref {
    struct pci_testdev *t;
    struct testdev_bar *bar;
};

struct pci_testdev {
    struct pci_function fn;
    GMutex lock;                 /* bars[] */
    struct testdev_bar bars[2];  /* PCI_TESTDEV_MEM_BAR, PCI_TESTDEV_IO_BAR */
    struct bar_ref refs[2];
    struct pci_bus *bus;
    unsigned slot;
};

static void put32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = v >> (8 * i);
}

static const struct testdev_test *selected(const struct testdev_bar *b)
{
    return b->test < PCI_TESTDEV_NR_TESTS ? &tests[b->test] : NULL;
}

/* The header as the guest reads it now (lock held). */
static void header(const struct testdev_bar *b, uint8_t h[PCI_TESTDEV_HEADER_SIZE])
{
    const struct testdev_test *t = selected(b);

    memset(h, 0, PCI_TESTDEV_HEADER_SIZE);
    h[PCI_TESTDEV_REG_TEST] = b->test;
    put32(h + PCI_TESTDEV_REG_COUNT, b->count);
    if (!t)
        return;
    h[PCI_TESTDEV_REG_WIDTH] = t->width;
    put32(h + PCI_TESTDEV_REG_OFFSET, DOORBELL(b->test));
    put32(h + PCI_TESTDEV_REG_DATA, t->data);
    memcpy(h + PCI_TESTDEV_REG_NAME, t->name, strlen(t->name)); /* NUL: the memset */
}

/* Both BARs: @offset is within the BAR and the access inside it (the bus
 * decoded it); @len is the guest's, 1 to 8 bytes. */
static void bar_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    const struct bar_ref *ref = opaque;
    struct testdev_bar *b = ref->bar;
    const struct testdev_test *t;
    uint32_t v = 0;

    g_mutex_lock(&ref->t->lock);
    t = selected(b);
    if (!is_write) {
        uint8_t h[PCI_TESTDEV_HEADER_SIZE];

        header(b, h);
        for (unsigned i = 0; i < len; i++)
            data[i] = offset + i < sizeof(h) ? h[offset + i] : 0;
    } else if (offset == PCI_TESTDEV_REG_TEST) {
        b->test = data[0];
        b->count = 0;
    } else if (t && offset == DOORBELL(b->test) && len == t->width) {
        for (unsigned i = 0; i < len; i++)
            v |= (uint32_t)data[i] << (8 * i);
        if ((!t->match || v == t->data) && b->count < UINT32_MAX)
            b->count++;
    }
    g_mutex_unlock(&ref->t->lock);
}

static void pci_testdev_reset(struct device *dev)
{
    struct pci_testdev *t = dev->state;

    g_mutex_lock(&t->lock);
    memset(t->bars, 0, sizeof(t->bars));
    g_mutex_unlock(&t->lock);
}

static bool pci_testdev_realize(struct device *dev, const struct device_ctx *ctx,
                                GError **error)
{
    struct pci_testdev *t = g_new0(struct pci_testdev, 1);
    uint16_t command = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;

    dev->state = t;
    g_mutex_init(&t->lock);
    if (!ctx->bus) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "pci-testdev: the machine has no PCI host before it");
        return false;
    }
    for (unsigned i = 0; i < 2; i++)
        t->refs[i] = (struct bar_ref){ t, &t->bars[i] };
    pci_function_init(&t->fn, "pci-testdev", PCI_TESTDEV_VENDOR, PCI_TESTDEV_DEVICE,
                      CLASS_OTHER, PCI_TESTDEV_VENDOR, PCI_TESTDEV_DEVICE);
    pci_function_add_bar(&t->fn, PCI_TESTDEV_MEM_BAR, PCI_TESTDEV_MEM_SIZE, bar_io,
                         &t->refs[PCI_TESTDEV_MEM_BAR]);
    pci_function_add_io_bar(&t->fn, PCI_TESTDEV_IO_BAR, PCI_TESTDEV_IO_SIZE, bar_io,
                            &t->refs[PCI_TESTDEV_IO_BAR]);
    memcpy(t->fn.config + PCI_COMMAND, &command, 2);
    if (!pci_bus_add(ctx->bus, &t->fn, (int)dev->desc->base, &t->slot, error))
        return false;
    t->bus = ctx->bus;
    return true;
}

static void pci_testdev_destroy(struct device *dev)
{
    struct pci_testdev *t = dev->state;

    if (t->bus)
        pci_bus_remove(t->bus, t->slot);
    g_mutex_clear(&t->lock);
    g_free(t);
}

const struct device_ops pci_testdev_device = {
    .name = "pci-testdev",
    .realize = pci_testdev_realize,
    .reset = pci_testdev_reset,
    .destroy = pci_testdev_destroy,
};
