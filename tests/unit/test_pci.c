/*
 * The PCI bus and host bridge (src/devices/pci.c, pci_host.c): what a
 * guest reads and writes in configuration space through ECAM and the
 * 0xcf8/0xcfc ports, BAR sizing and moving, and which accesses to the
 * memory window reach a BAR.
 */
#include "vmm/device.h"
#include "vmm/hw/pci.h"
#include "vmm/hw/pci_host.h"
#include "vmm/iobus.h"

#include "unit.h"

#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define WINDOW_SIZE 0x100000ULL

static const struct pci_host_params params = {
    .window_base = WINDOW, .window_size = WINDOW_SIZE, .conf1 = true,
};
static const struct device_desc host_line = {
    &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_ANY, &params,
};

static struct iobus bus;
static struct device_set devs;
static struct pci_bus *pci;
static struct pci_function fn;
static unsigned bar_hits;
static uint64_t bar_offset;

static void bar_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    bar_hits++;
    bar_offset = offset;
    if (!is_write)
        memset(data, 0x5a, len);
}

static void setup(void)
{
    struct device_ctx ctx = { .iobus = &bus };
    unsigned slot;

    iobus_init(&bus);
    devs.devices = NULL;
    ck_assert(device_realize(&devs, &host_line, &ctx, NULL));
    pci = pci_host_bus(g_ptr_array_index(devs.devices, 0));
    pci_function_init(&fn, "test", 0x1af4, 0x1041, 0x020000, 0x1af4, 0x1);
    pci_function_add_bar(&fn, 0, 0x4000, bar_io, NULL);
    pci_function_add_bar(&fn, 2, 0x1000, bar_io, NULL);
    ck_assert(pci_bus_add(pci, &fn, -1, &slot, NULL));
    ck_assert_uint_eq(slot, 1); /* the bridge is 00:00.0 */
    bar_hits = 0;
}

static void teardown(void)
{
    devices_destroy(&devs);
    iobus_destroy(&bus);
}

static uint32_t mmio_read(uint64_t addr, unsigned len)
{
    return unit_mmio_read(&bus, addr, len);
}

static void mmio_write(uint64_t addr, uint32_t v, unsigned len)
{
    unit_mmio_write(&bus, addr, v, len);
}

static uint32_t cfg_read(unsigned slot, unsigned off, unsigned len)
{
    return mmio_read(ECAM + (slot << 15) + off, len);
}

static void cfg_write(unsigned slot, unsigned off, uint32_t v, unsigned len)
{
    mmio_write(ECAM + (slot << 15) + off, v, len);
}

START_TEST(ids_and_read_only_fields)
{
    ck_assert_uint_eq(cfg_read(0, PCI_VENDOR_ID, 4), 0x10ff1af4);
    ck_assert_uint_eq(cfg_read(0, PCI_CLASS_PROG, 1), 0);
    ck_assert_uint_eq(cfg_read(0, PCI_CLASS_PROG + 1, 2), 0x0600);
    ck_assert_uint_eq(cfg_read(1, PCI_DEVICE_ID, 2), 0x1041);
    cfg_write(1, PCI_VENDOR_ID, 0x12345678, 4);
    cfg_write(1, PCI_HEADER_TYPE, 0x80, 1);
    ck_assert_uint_eq(cfg_read(1, PCI_VENDOR_ID, 4), 0x10411af4);
    ck_assert_uint_eq(cfg_read(1, PCI_HEADER_TYPE, 1), 0);
    /* Command: memory, bus master, INTx disable; nothing else sticks. */
    cfg_write(1, PCI_COMMAND, 0xffff, 2);
    ck_assert_uint_eq(cfg_read(1, PCI_COMMAND, 2), 0x406);
    cfg_write(1, PCI_INTERRUPT_LINE, 0x0b, 1);
    ck_assert_uint_eq(cfg_read(1, PCI_INTERRUPT_LINE, 1), 0x0b);
}
END_TEST

START_TEST(nobody_answers)
{
    ck_assert_uint_eq(cfg_read(2, 0, 4), 0xffffffff);            /* empty slot */
    ck_assert_uint_eq(mmio_read(ECAM + (1 << 12), 4), 0xffffffff); /* function 1 */
    ck_assert_uint_eq(cfg_read(1, 2, 4), 0xffffffff);            /* misaligned */
    ck_assert_uint_eq(cfg_read(1, 0x100, 4), 0);                 /* no extended caps */
    cfg_write(2, PCI_COMMAND, 0xffff, 2);                        /* ignored */
}
END_TEST

START_TEST(bar_sizing)
{
    uint32_t bar0 = cfg_read(1, PCI_BAR0, 4), bar2 = cfg_read(1, PCI_BAR0 + 8, 4);

    ck_assert_uint_eq(bar0, WINDOW);
    ck_assert_uint_eq(bar2, WINDOW + 0x4000);
    ck_assert_uint_eq(cfg_read(1, PCI_BAR0 + 4, 4), 0);          /* no BAR 1 */
    cfg_write(1, PCI_BAR0, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(1, PCI_BAR0, 4), 0xffffc000);
    cfg_write(1, PCI_BAR0 + 4, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(1, PCI_BAR0 + 4, 4), 0);
    cfg_write(1, PCI_BAR0, bar0, 4);
    ck_assert_uint_eq(cfg_read(1, PCI_BAR0, 4), bar0);
}
END_TEST

START_TEST(bar_decoding)
{
    /* Memory decoding off: nobody answers. */
    ck_assert_uint_eq(mmio_read(WINDOW + 8, 4), 0xffffffff);
    ck_assert_uint_eq(bar_hits, 0);
    cfg_write(1, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(mmio_read(WINDOW + 8, 4), 0x5a5a5a5a);
    ck_assert_uint_eq(bar_offset, 8);
    ck_assert_uint_eq(mmio_read(WINDOW + 0x4010, 2), 0x5a5a);
    ck_assert_uint_eq(bar_offset, 0x10);
    ck_assert_uint_eq(bar_hits, 2);
    /* Straddling a BAR's end: nobody's. */
    ck_assert_uint_eq(mmio_read(WINDOW + 0x3ffe, 4), 0xffffffff);
    ck_assert_uint_eq(bar_hits, 2);

    /* Moved: served at the new address, not the old one. */
    cfg_write(1, PCI_BAR0, WINDOW + 0x8000, 4);
    ck_assert_uint_eq(mmio_read(WINDOW + 8, 4), 0xffffffff);
    ck_assert_uint_eq(mmio_read(WINDOW + 0x8008, 4), 0x5a5a5a5a);
    ck_assert_uint_eq(bar_offset, 8);
    /* Moved outside the window: it cannot reach RAM or anything else. */
    cfg_write(1, PCI_BAR0, 0x1000000, 4);
    ck_assert_uint_eq(mmio_read(WINDOW + 0x8008, 4), 0xffffffff);
    ck_assert_uint_eq(bar_hits, 3);
}
END_TEST

START_TEST(conf1_ports)
{
    uint32_t a = 0x80000000U | (1 << 11) | PCI_VENDOR_ID, v = 0;
    uint8_t byte = 1;

    iobus_access(&bus, IOBUS_PIO, NULL, 0xcf8, (uint8_t *)&a, 4, true);
    /* Linux's type 1 probe: a byte to 0xcfb leaves the latch alone. */
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfb, &byte, 1, true);
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcf8, (uint8_t *)&v, 4, false);
    ck_assert_uint_eq(v, a);
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfc, (uint8_t *)&v, 4, false);
    ck_assert_uint_eq(v, 0x10411af4);
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfe, (uint8_t *)&v, 2, false);
    ck_assert_uint_eq(v & 0xffff, 0x1041);
    /* The register's low bits in the latch count, as on QEMU (kvm-unit-tests'
     * x86 pci_config_readw writes 0x02 there and reads 0xcfc). */
    a |= PCI_DEVICE_ID;
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcf8, (uint8_t *)&a, 4, true);
    v = 0;
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfc, (uint8_t *)&v, 2, false);
    ck_assert_uint_eq(v, 0x1041);
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfc, (uint8_t *)&v, 4, false);
    ck_assert_uint_eq(v, 0xffffffff);                   /* misaligned dword */
    /* Not enabled: all ones. */
    a &= ~0x80000000U;
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcf8, (uint8_t *)&a, 4, true);
    iobus_access(&bus, IOBUS_PIO, NULL, 0xcfc, (uint8_t *)&v, 4, false);
    ck_assert_uint_eq(v, 0xffffffff);
}
END_TEST

START_TEST(capabilities)
{
    struct pci_function f;
    uint8_t a, b;

    pci_function_init(&f, "caps", 1, 2, 0, 1, 2);
    ck_assert_uint_eq(f.config[PCI_STATUS] & PCI_STATUS_CAP_LIST, 0);
    a = pci_function_add_cap(&f, 0x09, 5);
    b = pci_function_add_cap(&f, 0x11, 12);
    ck_assert_uint_eq(a, 0x40);
    ck_assert_uint_eq(b, 0x48);
    ck_assert_uint_eq(f.config[PCI_CAPABILITY_LIST], a);
    ck_assert_uint_eq(f.config[a + 1], b);
    ck_assert_uint_eq(f.config[b + 1], 0);
    ck_assert(f.config[PCI_STATUS] & PCI_STATUS_CAP_LIST);
    ck_assert_uint_eq(pci_function_add_cap(&f, 0x09, 200), 0); /* does not fit */
}
END_TEST

START_TEST(bus_limits)
{
    struct pci_function many[PCI_SLOTS], big;
    GError *err = NULL;
    unsigned slot, added = 0;

    for (unsigned i = 0; i < PCI_SLOTS; i++) {
        pci_function_init(&many[i], "filler", 1, 2, 0, 1, 2);
        if (!pci_bus_add(pci, &many[i], -1, &slot, &err))
            break;
        added++;
    }
    ck_assert_uint_eq(added, PCI_SLOTS - 2);
    ck_assert_ptr_nonnull(strstr(err->message, "no free slot"));
    g_clear_error(&err);
    for (unsigned i = 2; i < PCI_SLOTS; i++)
        pci->slots[i] = NULL;
    /* A slot asked for: free, taken, or none such. */
    pci_function_init(&big, "big", 1, 2, 0, 1, 2);
    ck_assert(!pci_bus_add(pci, &big, 1, &slot, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "slot 1 is taken"));
    g_clear_error(&err);
    ck_assert(!pci_bus_add(pci, &big, PCI_SLOTS, &slot, &err));
    g_clear_error(&err);
    ck_assert(pci_bus_add(pci, &big, 7, &slot, &err));
    ck_assert_uint_eq(slot, 7);
    pci->slots[7] = NULL;
    pci_function_init(&big, "big", 1, 2, 0, 1, 2);
    pci_function_add_bar(&big, 0, WINDOW_SIZE, bar_io, NULL);
    ck_assert(!pci_bus_add(pci, &big, 5, &slot, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "no room"));
    g_clear_error(&err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci");
    TCase *tc = tcase_create("pci");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ids_and_read_only_fields);
    tcase_add_test(tc, nobody_answers);
    tcase_add_test(tc, bar_sizing);
    tcase_add_test(tc, bar_decoding);
    tcase_add_test(tc, conf1_ports);
    tcase_add_test(tc, capabilities);
    tcase_add_test(tc, bus_limits);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
