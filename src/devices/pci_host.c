/*
 * The PCI host bridge: bus 0 (vmm/hw/pci.h) with the bridge itself at
 * 00:00.0, reached through ECAM (its machine line's base and size, one
 * 1 MiB bus) and, where the machine asks for it (x86_64), the legacy
 * 0xcf8/0xcfc configuration ports; every access to the memory window or
 * the I/O window goes to the BAR that decodes it. The guest finds it
 * through its ACPI Device (PCI0) (x86_64: PNP0A03, its bus, ports and
 * windows in _CRS) or its device-tree node (aarch64:
 * pci-host-ecam-generic, the windows in its ranges).
 */
#include <libfdt.h>
#include <string.h>

#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/hw/aml.h"
#include "vmm/hw/dt.h"
#include "vmm/hw/pci.h"
#include "vmm/hw/pci_host.h"

#define CONF1_ADDRESS_PORT 0xcf8
#define CONF1_DATA_PORT    0xcfc
#define CONF1_ENABLE       0x80000000U
#define ECAM_BUS_SIZE      0x100000ULL  /* 32 devices x 8 functions x 4 KiB */
/* The bridge's IDs. 0x1af4 is the virtio vendor (the virtio specification's
 * PCI binding); 0x10ff lies outside the virtio device range, so no virtio
 * driver claims the bridge. */
#define BRIDGE_VENDOR      0x1af4
#define BRIDGE_DEVICE      0x10ff

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

int pci_host_intx_irq(const struct pci_host_params *p, unsigned slot, unsigned pin)
{
    return p->intx ? (int)(p->intx_base + (slot + pin) % 4) : -1;
}

struct pci_host {
    struct pci_bus bus;
    struct pci_function bridge;
};

struct pci_bus *pci_host_bus(const struct device *dev)
{
    return dev->state ? &((struct pci_host *)dev->state)->bus : NULL;
}

static void *pci_host_offers_bus(const struct device *dev)
{
    return pci_host_bus(dev);
}

/* ECAM: bus[27:20] device[19:15] function[14:12] register[11:0]. */
static void ecam_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                    unsigned len, bool is_write)
{
    struct pci_host *h = opaque;

    pci_bus_config(&h->bus, offset >> 20, (offset >> 15) & 31, (offset >> 12) & 7,
                   offset & 0xfff, data, len, is_write);
}

static void conf1_address_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                             unsigned len, bool is_write)
{
    struct pci_host *h = opaque;

    /* Only whole-dword accesses reach the latch: Linux's type 1 probe
     * writes a byte to 0xcfb and expects the latch to be unaffected. */
    g_mutex_lock(&h->bus.lock);
    if (len != 4 || offset != 0) {
        if (!is_write)
            memset(data, 0xff, len);
    } else if (is_write) {
        memcpy(&h->bus.conf1_address, data, 4);
        /* enable, bus, device, function, register; bits 1:0 are kept, as
         * QEMU keeps them: kvm-unit-tests' x86 library writes the register
         * unaligned (0x02, the device ID) and reads the data port at 0xcfc */
        h->bus.conf1_address &= 0x80ffffffU;
    } else {
        memcpy(data, &h->bus.conf1_address, 4);
    }
    g_mutex_unlock(&h->bus.lock);
}

static void conf1_data_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                          unsigned len, bool is_write)
{
    struct pci_host *h = opaque;
    uint32_t a;

    g_mutex_lock(&h->bus.lock);
    a = h->bus.conf1_address;
    g_mutex_unlock(&h->bus.lock);
    if (!(a & CONF1_ENABLE)) {
        if (!is_write)
            memset(data, 0xff, len);
        return;
    }
    pci_bus_config(&h->bus, (a >> 16) & 0xff, (a >> 11) & 31, (a >> 8) & 7,
                   (a & 0xff) | offset, data, len, is_write);
}

static void window_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                      unsigned len, bool is_write)
{
    struct pci_host *h = opaque;

    pci_bus_window_access(&h->bus, vcpu, h->bus.window_base + offset, data, len, is_write);
}

/* The I/O window, as MMIO (aarch64) or as ports (x86_64): the offset is
 * the window's, the bus address io_base + offset. */
static void io_window_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                         unsigned len, bool is_write)
{
    struct pci_host *h = opaque;

    pci_bus_io_access(&h->bus, vcpu, h->bus.io_base + (uint32_t)offset, data, len, is_write);
}

static bool pci_host_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    const struct device_desc *d = dev->desc;
    const struct pci_host_params *p = d->params;
    struct pci_host *h = g_new0(struct pci_host, 1);
    unsigned slot;

    g_assert(p && d->size == ECAM_BUS_SIZE);
    dev->state = h;
    pci_bus_init(&h->bus, p->window_base, p->window_size);
    if (p->io_size) {
        pci_bus_set_io_window(&h->bus, p->io_base, p->io_size);
        if (!iobus_register(ctx->iobus, p->io_mmio_base ? IOBUS_MMIO : IOBUS_PIO,
                            p->io_mmio_base ? p->io_mmio_base : p->io_base, p->io_size,
                            io_window_io, h, "pci-io-window", error))
            return false;
    }
    pci_function_init(&h->bridge, "pci-host", BRIDGE_VENDOR, BRIDGE_DEVICE,
                      PCI_CLASS_BRIDGE_HOST, BRIDGE_VENDOR, BRIDGE_DEVICE);
    if (!pci_bus_add(&h->bus, &h->bridge, 0, &slot, error) ||
        !iobus_register(ctx->iobus, IOBUS_MMIO, d->base, d->size, ecam_io, h, "pci-ecam",
                        error) ||
        !iobus_register(ctx->iobus, IOBUS_MMIO, p->window_base, p->window_size, window_io, h,
                        "pci-window", error))
        return false;
    return !p->conf1 ||
           (iobus_register(ctx->iobus, IOBUS_PIO, CONF1_ADDRESS_PORT, 4, conf1_address_io, h,
                           "pci-conf1-address", error) &&
            iobus_register(ctx->iobus, IOBUS_PIO, CONF1_DATA_PORT, 4, conf1_data_io, h,
                           "pci-conf1-data", error));
}

static void pci_host_destroy(struct device *dev)
{
    struct pci_host *h = dev->state;

    pci_bus_destroy(&h->bus);
    g_free(h);
}


/* _PRT: every slot's INTA-INTD to the IOAPIC pins (GSIs) the machine
 * gave PCI, swizzled by slot as on real boards, so the interrupts of
 * neighbouring slots spread over the pins. */
static void pci_host_prt(GByteArray *a, const struct pci_host_params *p)
{
    GByteArray *entries = g_byte_array_new();

    aml_byte(entries, PCI_SLOTS * 4);           /* NumElements */
    for (unsigned slot = 0; slot < PCI_SLOTS; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            GByteArray *e = g_byte_array_new();
            uint8_t addr[4];

            put32(addr, slot << 16 | 0xffff);   /* any function of the slot */
            aml_byte(e, 4);
            aml_byte(e, AML_DWORD);
            aml_bytes(e, addr, 4);
            aml_byte(e, AML_BYTE);
            aml_byte(e, pin);
            aml_byte(e, 0);                     /* Source: Zero, a GSI */
            aml_byte(e, AML_BYTE);
            aml_byte(e, pci_host_intx_irq(p, slot, pin));
            aml_byte(entries, AML_PACKAGE);
            aml_pkg(entries, e);
        }
    }
    aml_byte(a, AML_NAME);
    aml_bytes(a, "_PRT", 4);
    aml_byte(a, AML_PACKAGE);
    aml_pkg(a, entries);
}

/* Device (PCI0): bus 0, the 0xcf8-0xcff ports, the I/O window (when the
 * machine has one as ports) and the memory window, in _CRS as ACPI 6.x
 * section 6.4 resource descriptors. */
static void pci_host_acpi(const struct device *dev, struct device_acpi *a)
{
    const struct pci_host_params *p = dev->desc->params;
    static const uint8_t hid[] = { 0x41, 0xd0, 0x0a, 0x03 }; /* EisaId ("PNP0A03") */
    uint8_t crs[16 + 8 + 16 + 26 + 2] = {
        /* Word Address Space: bus numbers 0-0, produced, fixed */
        0x88, 13, 0, 2, 0x0c, 0,
    };
    GByteArray *body = g_byte_array_new();
    uint8_t *io = crs + 16, *at = crs + 24, *mem;

    put16(crs + 12, 0);                 /* translation */
    put16(crs + 14, 1);                 /* length: one bus */
    /* I/O: the configuration ports, 16-bit decode */
    io[0] = 0x47;
    io[1] = 0x01;
    put16(io + 2, CONF1_ADDRESS_PORT);
    put16(io + 4, CONF1_ADDRESS_PORT);
    io[6] = 1;
    io[7] = 8;
    if (p->io_size && !p->io_mmio_base) {
        /* Word Address Space: the I/O window, produced, fixed, ISA and
         * non-ISA ports */
        at[0] = 0x88;
        put16(at + 1, 13);
        at[3] = 1;
        at[4] = 0x0c;
        at[5] = 0x03;
        put16(at + 6, 0);
        put16(at + 8, (uint16_t)p->io_base);
        put16(at + 10, (uint16_t)(p->io_base + p->io_size - 1));
        put16(at + 12, 0);
        put16(at + 14, (uint16_t)p->io_size);
        at += 16;
    }
    /* DWord Address Space: the memory window, produced, fixed, read-write */
    mem = at;
    mem[0] = 0x87;
    put16(mem + 1, 23);
    mem[3] = 0;
    mem[4] = 0x0c;
    mem[5] = 0x01;
    put32(mem + 10, (uint32_t)p->window_base);
    put32(mem + 14, (uint32_t)(p->window_base + p->window_size - 1));
    put32(mem + 22, (uint32_t)p->window_size);
    at = mem + 26;
    at[0] = 0x79;                       /* end tag */
    at[1] = 0;

    aml_name_dword(body, "_HID", hid);
    aml_name_byte(body, "_SEG", 0);
    aml_name_byte(body, "_BBN", 0);
    aml_name_byte(body, "_UID", 0);
    aml_name_buffer(body, "_CRS", crs, at + 2 - crs);
    if (p->intx)
        pci_host_prt(body, p);
    aml_device(a->sb, "PCI0", body);
}

/* interrupt-map: INTA-INTD of the four slot classes (the mask keeps two
 * bits of the slot number) to the machine's INTx interrupts, swizzled as
 * in _PRT. Each entry carries the interrupt controller's unit address in
 * its #address-cells (zeros): Linux refuses the map (EINVAL) when the
 * count differs from the controller's. */
static int pci_host_interrupt_map(struct device_fdt *f, const struct pci_host_params *p)
{
    fdt32_t mask[] = { cpu_to_fdt32(3 << 11), 0, 0, cpu_to_fdt32(7) };
    fdt32_t map[4 * 4 * 12];
    unsigned n = 0;

    g_assert(f->intc_address_cells <= 3);

    for (unsigned slot = 0; slot < 4; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            uint32_t cells[4];
            unsigned k = f->irq_cells(pci_host_intx_irq(p, slot, pin), cells);

            g_assert(k == 3);
            map[n++] = cpu_to_fdt32(slot << 11);
            map[n++] = 0;
            map[n++] = 0;
            map[n++] = cpu_to_fdt32(pin + 1);   /* INTA is 1 */
            map[n++] = cpu_to_fdt32(f->intc_phandle);
            for (unsigned c = 0; c < f->intc_address_cells; c++)
                map[n++] = 0;
            for (unsigned c = 0; c < k; c++)
                map[n++] = cpu_to_fdt32(cells[c]);
        }
    }
    return fdt_property_u32(f->fdt, "#interrupt-cells", 1) |
           fdt_property(f->fdt, "interrupt-map-mask", mask, sizeof(mask)) |
           fdt_property(f->fdt, "interrupt-map", map, n * sizeof(map[0]));
}

/* pcie@<ecam>: ECAM for bus 0, the I/O window (when the machine has one)
 * and one 32-bit memory range (PCI address == CPU address), as Linux's
 * pci-host-generic driver reads it. */
static int pci_host_fdt(const struct device *dev, struct device_fdt *f)
{
    const struct pci_host_params *p = dev->desc->params;
    static const char compat[] = "pci-host-ecam-generic";
    fdt32_t bus_range[] = { cpu_to_fdt32(0), cpu_to_fdt32(0) };
    fdt32_t ranges[] = {
        cpu_to_fdt32(0x01000000), /* I/O space: bus address io_base at io_mmio_base */
        0, cpu_to_fdt32(p->io_base),
        cpu_to_fdt32(p->io_mmio_base >> 32), cpu_to_fdt32((uint32_t)p->io_mmio_base),
        0, cpu_to_fdt32(p->io_size),
        cpu_to_fdt32(0x02000000), /* 32-bit memory space */
        cpu_to_fdt32(p->window_base >> 32), cpu_to_fdt32((uint32_t)p->window_base),
        cpu_to_fdt32(p->window_base >> 32), cpu_to_fdt32((uint32_t)p->window_base),
        cpu_to_fdt32(p->window_size >> 32), cpu_to_fdt32((uint32_t)p->window_size),
    };
    /* Without an I/O window as MMIO, the memory range alone. */
    bool io = p->io_size && p->io_mmio_base;
    int err = device_fdt_begin(f, dev, compat, sizeof(compat));

    err |= fdt_property_string(f->fdt, "device_type", "pci");
    err |= fdt_property_u32(f->fdt, "#address-cells", 3);
    err |= fdt_property_u32(f->fdt, "#size-cells", 2);
    err |= fdt_property_u32(f->fdt, "linux,pci-domain", 0);
    err |= fdt_property(f->fdt, "bus-range", bus_range, sizeof(bus_range));
    err |= fdt_property(f->fdt, "ranges", io ? ranges : ranges + 7,
                        io ? sizeof(ranges) : sizeof(ranges) - 7 * sizeof(ranges[0]));
    err |= fdt_property(f->fdt, "dma-coherent", NULL, 0);
    if (p->intx)
        err |= pci_host_interrupt_map(f, p);
    if (f->msi_phandle) {
        /* Every requester ID (bus << 8 | devfn) is the ITS's device ID as
         * it is: what vmm's KVM_SIGNAL_MSI gives as the devid. */
        fdt32_t msi_map[] = {
            0, cpu_to_fdt32(f->msi_phandle), 0, cpu_to_fdt32(0x10000),
        };

        err |= fdt_property(f->fdt, "msi-map", msi_map, sizeof(msi_map));
    }
    err |= fdt_end_node(f->fdt);
    return err;
}

const struct device_ops pci_host_device = {
    .name = "pci-host",
    .dt_name = "pcie",
    .realize = pci_host_realize,
    .destroy = pci_host_destroy,
    .fdt = pci_host_fdt,
    .acpi = pci_host_acpi,
    .bus = pci_host_offers_bus,
};
