/*
 * The PCI bus and its functions' configuration spaces (vmm/hw/pci.h).
 * Every byte the guest writes goes through the function's write mask, so
 * read-only fields (IDs, class, header type, the capability list, a BAR's
 * type and size bits) stay what the device model set.
 */
#include <string.h>

#include "vmm/error.h"
#include "vmm/hw/pci.h"

#define PCI_BAR_ADDR_MASK 0xfffffff0U
#define PCI_BAR_IO_MASK   0xfffffffcU
#define PCI_CAP_START 0x40

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

void pci_function_init(struct pci_function *fn, const char *name, uint16_t vendor,
                       uint16_t device, uint32_t class_code, uint16_t subsys_vendor,
                       uint16_t subsys_id)
{
    memset(fn->config, 0, sizeof(fn->config));
    memset(fn->wmask, 0, sizeof(fn->wmask));
    memset(fn->bars, 0, sizeof(fn->bars));
    fn->name = name;
    put16(fn->config + PCI_VENDOR_ID, vendor);
    put16(fn->config + PCI_DEVICE_ID, device);
    fn->config[PCI_REVISION_ID] = 1;
    fn->config[PCI_CLASS_PROG] = class_code & 0xff;
    put16(fn->config + PCI_CLASS_PROG + 1, class_code >> 8);
    fn->config[PCI_HEADER_TYPE] = 0;
    put16(fn->config + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
    put16(fn->config + PCI_SUBSYSTEM_ID, subsys_id);
    put16(fn->wmask + PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                   PCI_COMMAND_INTX_DISABLE);
    fn->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    fn->wmask[PCI_LATENCY_TIMER] = 0xff;
    fn->wmask[PCI_INTERRUPT_LINE] = 0xff;
    fn->next_cap = PCI_CAP_START;
    fn->last_cap_next = &fn->config[PCI_CAPABILITY_LIST];
}

void pci_function_add_bar(struct pci_function *fn, unsigned index, uint64_t size,
                          io_handler_fn handler, void *opaque)
{
    g_assert(index < PCI_BARS && size >= 4096 && size <= (1ULL << 31) &&
             !(size & (size - 1)));
    fn->bars[index] = (struct pci_bar){ .size = size, .handler = handler, .opaque = opaque };
    /* Type bits 0: 32-bit memory, not prefetchable. Writing all ones
     * reads back the size, as the sizing protocol expects. */
    put32(fn->wmask + PCI_BAR0 + 4 * index, (uint32_t)~(size - 1) & PCI_BAR_ADDR_MASK);
}

void pci_function_add_io_bar(struct pci_function *fn, unsigned index, uint32_t size,
                             io_handler_fn handler, void *opaque)
{
    g_assert(index < PCI_BARS && size >= 4 && size <= 256 && !(size & (size - 1)));
    fn->bars[index] = (struct pci_bar){
        .size = size, .handler = handler, .opaque = opaque, .io = true,
    };
    /* Bit 0 (I/O space) is read-only; all 32 address bits are writable,
     * so sizing reads back the size whatever the guest assumes about
     * 16-bit decoders. */
    put32(fn->config + PCI_BAR0 + 4 * index, PCI_BAR_IO_SPACE);
    put32(fn->wmask + PCI_BAR0 + 4 * index, ~(size - 1) & PCI_BAR_IO_MASK);
    put16(fn->wmask + PCI_COMMAND, get16(fn->wmask + PCI_COMMAND) | PCI_COMMAND_IO);
}

uint8_t pci_function_add_cap(struct pci_function *fn, uint8_t id, unsigned len)
{
    uint8_t at = fn->next_cap;

    if (len < 2 || at == 0 || at + len > PCI_CONFIG_SIZE)
        return 0;
    fn->config[at] = id;
    fn->config[at + 1] = 0;
    *fn->last_cap_next = at;
    fn->last_cap_next = &fn->config[at + 1];
    fn->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    /* Capabilities are dword aligned. */
    fn->next_cap = at + len + 3 > PCI_CONFIG_SIZE - 1 ? 0 : (at + len + 3) & ~3;
    return at;
}

uint64_t pci_function_bar_address(const struct pci_function *fn, unsigned index)
{
    if (index >= PCI_BARS || !fn->bars[index].size || fn->bars[index].io ||
        !(get16(fn->config + PCI_COMMAND) & PCI_COMMAND_MEMORY))
        return 0;
    return get32(fn->config + PCI_BAR0 + 4 * index) & PCI_BAR_ADDR_MASK;
}

bool pci_function_io_bar_port(const struct pci_function *fn, unsigned index, uint32_t *port)
{
    /* Port 0 is a valid I/O BAR address (the arm64 I/O window starts
     * there), so decoding is the command bit alone. */
    if (index >= PCI_BARS || !fn->bars[index].size || !fn->bars[index].io ||
        !(get16(fn->config + PCI_COMMAND) & PCI_COMMAND_IO))
        return false;
    *port = get32(fn->config + PCI_BAR0 + 4 * index) & PCI_BAR_IO_MASK;
    return true;
}

void pci_bus_init(struct pci_bus *bus, uint64_t window_base, uint64_t window_size)
{
    memset(bus, 0, sizeof(*bus));
    g_mutex_init(&bus->lock);
    bus->window_base = window_base;
    bus->window_size = window_size;
    bus->next_bar = window_base;
}

void pci_bus_set_io_window(struct pci_bus *bus, uint32_t base, uint32_t size)
{
    g_assert(size && base + size - 1 >= base);
    bus->io_base = base;
    bus->io_size = size;
    bus->next_io = base;
}

void pci_bus_destroy(struct pci_bus *bus)
{
    g_mutex_clear(&bus->lock);
}

bool pci_bus_add(struct pci_bus *bus, struct pci_function *fn, int want, unsigned *slot,
                 GError **error)
{
    unsigned s;

    if (want >= 0) {
        s = want;
        if (s >= PCI_SLOTS || bus->slots[s]) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "%s: PCI slot %d is taken or does not exist", fn->name, want);
            return false;
        }
    } else {
        for (s = 0; s < PCI_SLOTS && bus->slots[s]; s++)
            ;
        if (s == PCI_SLOTS) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "%s: the PCI bus has no free slot (%d devices at most)", fn->name,
                        PCI_SLOTS);
            return false;
        }
    }
    /* Every BAR's place first, so a function that does not fit leaves the
     * windows as they were. */
    uint64_t next_bar = bus->next_bar, next_io = bus->next_io;
    uint32_t at_of[PCI_BARS] = { 0 };

    for (unsigned i = 0; i < PCI_BARS; i++) {
        uint64_t size = fn->bars[i].size, at;

        if (!size)
            continue;
        if (fn->bars[i].io) {
            at = (next_io + size - 1) & ~(size - 1);
            if (!bus->io_size || at - bus->io_base > bus->io_size ||
                size > bus->io_size - (at - bus->io_base)) {
                g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                            "%s: no room for its %" G_GUINT64_FORMAT "-byte BAR in the PCI "
                            "I/O window", fn->name, size);
                return false;
            }
            at_of[i] = (uint32_t)at;
            next_io = at + size;
            continue;
        }
        at = (next_bar + size - 1) & ~(size - 1); /* naturally aligned */
        if (at < next_bar || at - bus->window_base > bus->window_size ||
            size > bus->window_size - (at - bus->window_base) || at + size > 1ULL << 32) {
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "%s: no room for its %" G_GUINT64_FORMAT "-byte BAR in the PCI "
                        "memory window", fn->name, size);
            return false;
        }
        at_of[i] = (uint32_t)at;
        next_bar = at + size;
    }
    for (unsigned i = 0; i < PCI_BARS; i++)
        if (fn->bars[i].size)
            put32(fn->config + PCI_BAR0 + 4 * i,
                  at_of[i] | (fn->bars[i].io ? PCI_BAR_IO_SPACE : 0));
    bus->next_bar = next_bar;
    bus->next_io = (uint32_t)next_io;
    bus->slots[s] = fn;
    *slot = s;
    return true;
}

void pci_bus_remove(struct pci_bus *bus, unsigned slot)
{
    g_mutex_lock(&bus->lock);
    if (slot < PCI_SLOTS)
        bus->slots[slot] = NULL;
    g_mutex_unlock(&bus->lock);
}

void pci_bus_config(struct pci_bus *bus, unsigned busnr, unsigned slot, unsigned func,
                    unsigned offset, uint8_t *data, unsigned len, bool is_write)
{
    struct pci_function *fn;

    if (busnr != 0 || slot >= PCI_SLOTS || func != 0 || offset >= 4096 ||
        (len != 1 && len != 2 && len != 4) || (offset & (len - 1))) {
        if (!is_write)
            memset(data, 0xff, len);
        return;
    }
    g_mutex_lock(&bus->lock);
    fn = bus->slots[slot];
    if (!fn) {
        if (!is_write)
            memset(data, 0xff, len);
    } else if (offset >= PCI_CONFIG_SIZE) {
        if (!is_write)
            memset(data, 0, len);   /* no extended capabilities */
    } else if (!is_write) {
        memcpy(data, fn->config + offset, len);
    } else {
        for (unsigned i = 0; i < len; i++) {
            uint8_t m = fn->wmask[offset + i];

            fn->config[offset + i] = (fn->config[offset + i] & ~m) | (data[i] & m);
        }
        if (fn->config_written)
            fn->config_written(fn, offset, len);
    }
    g_mutex_unlock(&bus->lock);
}

/* Where BAR @i of @fn decodes in its space (@io: ports, else memory), if it does. */
static bool bar_base(const struct pci_function *fn, unsigned i, bool io, uint64_t *base)
{
    uint32_t port;

    if (!io) {
        *base = pci_function_bar_address(fn, i);
        return *base != 0;
    }
    if (!pci_function_io_bar_port(fn, i, &port))
        return false;
    *base = port;
    return true;
}

/* An access at @addr in the memory window or the I/O space goes to the BAR
 * that holds all of it, or to nobody (reads as all ones). */
static void bar_access(struct pci_bus *bus, struct vcpu *vcpu, bool io, uint64_t addr,
                       uint8_t *data, unsigned len, bool is_write)
{
    io_handler_fn handler = NULL;
    void *opaque = NULL;
    uint64_t offset = 0;

    g_mutex_lock(&bus->lock);
    for (unsigned s = 0; s < PCI_SLOTS && !handler; s++) {
        struct pci_function *fn = bus->slots[s];

        for (unsigned i = 0; fn && i < PCI_BARS; i++) {
            uint64_t base;

            /* The whole access inside the BAR (no wrap: addr >= base). */
            if (bar_base(fn, i, io, &base) && addr >= base && addr - base < fn->bars[i].size &&
                len <= fn->bars[i].size - (addr - base)) {
                handler = fn->bars[i].handler;
                opaque = fn->bars[i].opaque;
                offset = addr - base;
                break;
            }
        }
    }
    g_mutex_unlock(&bus->lock);
    /* Outside the lock: a handler may take its device's own lock, and the
     * function outlives the bus's VM-lifetime users. */
    if (handler)
        handler(vcpu, opaque, offset, data, len, is_write);
    else if (!is_write)
        memset(data, 0xff, len);
}

void pci_bus_window_access(struct pci_bus *bus, struct vcpu *vcpu, uint64_t addr,
                           uint8_t *data, unsigned len, bool is_write)
{
    bar_access(bus, vcpu, false, addr, data, len, is_write);
}

void pci_bus_io_access(struct pci_bus *bus, struct vcpu *vcpu, uint32_t port, uint8_t *data,
                       unsigned len, bool is_write)
{
    bar_access(bus, vcpu, true, port, data, len, is_write);
}
