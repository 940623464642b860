/*
 * pci-testdev (src/devices/pci_testdev.c) on the PCI host's bus, with the
 * I/O window as ports (x86_64) and as MMIO (aarch64): what kvm-unit-tests'
 * driver (lib/pci-testdev.c) reads and writes, I/O BARs on the bus, and
 * what a hostile guest gets instead (nothing counted, no crash). Also the
 * machine-table flag that leaves the device out unless the VM asks.
 */
#include "vmm/device.h"
#include "vmm/hw/pci.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/pci_testdev.h"
#include "vmm/iobus.h"

#include "unit.h"

#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define IO_PORTS 0xd000      /* x86_64-like: the window is ports */
#define IO_MMIO 0x3eff0000ULL /* aarch64-like: bus ports 0.. as MMIO here */
#define SLOT 31

static const struct pci_host_params pio_params = {
    .window_base = WINDOW, .window_size = 0x100000, .conf1 = true,
    .io_base = IO_PORTS, .io_size = 0x1000,
};
static const struct pci_host_params mmio_params = {
    .window_base = WINDOW, .window_size = 0x100000,
    .io_base = 0, .io_size = 0x10000, .io_mmio_base = IO_MMIO,
};
static const struct device_desc pio_table[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_LINUX, &pio_params },
    { &pci_testdev_device, SLOT, 0, -1, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV },
};
static const struct device_desc mmio_table[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_LINUX, &mmio_params },
    { &pci_testdev_device, SLOT, 0, -1, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV },
};

static struct iobus bus;
static struct device_set devs;

/* How the guest reaches the BAR under test: its kind and first address. */
struct bar_access {
    iobus_kind kind;
    uint64_t base;
};

static void realize(const struct device_desc *table, unsigned boot)
{
    struct device_ctx ctx = { .iobus = &bus };

    iobus_init(&bus);
    devs.devices = NULL;
    ck_assert(devices_realize(&devs, table, 2, boot, &ctx, -1, NULL, NULL));
}

static void teardown(void)
{
    devices_destroy(&devs);
    iobus_destroy(&bus);
}

static uint32_t rd(struct bar_access a, uint64_t off, unsigned len)
{
    uint32_t v = 0;

    iobus_access(&bus, a.kind, NULL, a.base + off, (uint8_t *)&v, len, false);
    return v;
}

static void wr(struct bar_access a, uint64_t off, uint32_t v, unsigned len)
{
    iobus_access(&bus, a.kind, NULL, a.base + off, (uint8_t *)&v, len, true);
}

static uint32_t cfg_read(unsigned off, unsigned len)
{
    return unit_mmio_read(&bus, ECAM + (SLOT << 15) + off, len);
}

static void cfg_write(unsigned off, uint32_t v, unsigned len)
{
    unit_mmio_write(&bus, ECAM + (SLOT << 15) + off, v, len);
}

/* One test as lib/pci-testdev.c runs it: select, check the count is 0,
 * read width, data and offset, write 16 times; the count after. -1 when
 * the BAR has no such test (width not 1, 2 or 4). */
static int run_test(struct bar_access a, unsigned n, char *name, size_t name_size)
{
    uint32_t width, data, off;
    size_t i;

    wr(a, PCI_TESTDEV_REG_TEST, n, 1);
    ck_assert_uint_eq(rd(a, PCI_TESTDEV_REG_COUNT, 4), 0);
    ck_assert_uint_eq(rd(a, PCI_TESTDEV_REG_TEST, 1), n & 0xff);
    width = rd(a, PCI_TESTDEV_REG_WIDTH, 1);
    if (width != 1 && width != 2 && width != 4)
        return -1;
    data = rd(a, PCI_TESTDEV_REG_DATA, 4);
    off = rd(a, PCI_TESTDEV_REG_OFFSET, 4);
    for (i = 0; i + 1 < name_size; i++)
        if (!(name[i] = (char)rd(a, PCI_TESTDEV_REG_NAME + i, 1)))
            break;
    name[i] = 0;
    for (int w = 0; w < 16; w++)
        wr(a, off, data, width);
    return (int)rd(a, PCI_TESTDEV_REG_COUNT, 4);
}

/* Every test of the BAR passes as kvm-unit-tests counts it: 3 of them,
 * 16 writes each, and the scan ends at test 3. */
static void check_all_tests(struct bar_access a)
{
    char name[64];

    for (unsigned n = 0; n < PCI_TESTDEV_NR_TESTS; n++) {
        ck_assert_int_eq(run_test(a, n, name, sizeof(name)), 16);
        ck_assert_uint_gt(strlen(name), 0);
    }
    ck_assert_int_eq(run_test(a, PCI_TESTDEV_NR_TESTS, name, sizeof(name)), -1);
    ck_assert_uint_eq(rd(a, PCI_TESTDEV_REG_NAME, 4), 0);    /* no name */
    ck_assert_uint_eq(rd(a, PCI_TESTDEV_REG_OFFSET, 4), 0);
    ck_assert_int_eq(run_test(a, 255, name, sizeof(name)), -1);
}

static struct bar_access mem_bar(void)
{
    return (struct bar_access){ IOBUS_MMIO, cfg_read(PCI_BAR0, 4) & ~0xfU };
}

START_TEST(ids_bars_and_decoding)
{
    uint32_t bar0, bar1;

    realize(pio_table, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV);
    ck_assert_uint_eq(cfg_read(PCI_VENDOR_ID, 4), 0x00051b36);
    ck_assert_uint_eq(cfg_read(PCI_CLASS_PROG + 1, 2), 0xff00);
    /* Assigned and decoding at power-on, as firmware leaves it. */
    ck_assert_uint_eq(cfg_read(PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
    bar0 = cfg_read(PCI_BAR0, 4);
    bar1 = cfg_read(PCI_BAR0 + 4, 4);
    ck_assert_uint_eq(bar0, WINDOW);                 /* 32-bit memory */
    ck_assert_uint_eq(bar1, IO_PORTS | PCI_BAR_IO_SPACE);
    /* Sizing: all ones read back the size; the type bits stay. */
    cfg_write(PCI_BAR0, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(PCI_BAR0, 4), (uint32_t)-PCI_TESTDEV_MEM_SIZE);
    cfg_write(PCI_BAR0 + 4, 0xffffffff, 4);
    ck_assert_uint_eq(cfg_read(PCI_BAR0 + 4, 4), (uint32_t)-PCI_TESTDEV_IO_SIZE | 1);
    cfg_write(PCI_BAR0, bar0, 4);
    cfg_write(PCI_BAR0 + 4, bar1, 4);
    ck_assert_uint_eq(cfg_read(PCI_BAR0 + 8, 4), 0);   /* no BAR 2 */
    ck_assert_uint_eq(cfg_read(PCI_INTERRUPT_PIN, 1), 0);

    /* I/O decoding off: the ports read as nobody's, writes go nowhere. */
    cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    ck_assert_uint_eq(rd((struct bar_access){ IOBUS_PIO, IO_PORTS }, 0, 4), 0xffffffff);
    /* Moved (a guest assigning its own ports): served there, not before. */
    cfg_write(PCI_COMMAND, PCI_COMMAND_IO, 2);
    cfg_write(PCI_BAR0 + 4, IO_PORTS + 0x200, 4);
    ck_assert_uint_eq(rd((struct bar_access){ IOBUS_PIO, IO_PORTS }, 0, 4), 0xffffffff);
    check_all_tests((struct bar_access){ IOBUS_PIO, IO_PORTS + 0x200 });
    /* Memory decoding off now: BAR 0 is nobody's. */
    ck_assert_uint_eq(unit_mmio_read(&bus, WINDOW + PCI_TESTDEV_REG_WIDTH, 1), 0xff);
    /* Moved outside the I/O window: unreachable. */
    cfg_write(PCI_BAR0 + 4, 0x100, 4);
    ck_assert_uint_eq(rd((struct bar_access){ IOBUS_PIO, IO_PORTS + 0x200 }, 0, 4),
                      0xffffffff);
    teardown();
}
END_TEST

START_TEST(kut_driver_over_ports)
{
    realize(pio_table, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV);
    check_all_tests(mem_bar());
    check_all_tests((struct bar_access){ IOBUS_PIO, cfg_read(PCI_BAR0 + 4, 4) & ~3U });
    teardown();
}
END_TEST

/* aarch64: the guest (kvm-unit-tests' pci_probe) assigns the BARs from the
 * device tree's ranges, I/O from bus address 0, and reaches the I/O BAR
 * through the MMIO window. */
START_TEST(kut_driver_over_mmio_io_window)
{
    realize(mmio_table, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV);
    ck_assert_uint_eq(cfg_read(PCI_BAR0 + 4, 4), 0 | PCI_BAR_IO_SPACE);
    cfg_write(PCI_BAR0, WINDOW + 0x4000, 4);
    cfg_write(PCI_BAR0 + 4, 0, 4);
    cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO, 2);
    check_all_tests((struct bar_access){ IOBUS_MMIO, WINDOW + 0x4000 });
    check_all_tests((struct bar_access){ IOBUS_MMIO, IO_MMIO });
    /* Moved within the window: bus port 0x1000 is IO_MMIO + 0x1000. */
    cfg_write(PCI_BAR0 + 4, 0x1000, 4);
    ck_assert_uint_eq(unit_mmio_read(&bus, IO_MMIO + PCI_TESTDEV_REG_WIDTH, 1), 0xff);
    check_all_tests((struct bar_access){ IOBUS_MMIO, IO_MMIO + 0x1000 });
    teardown();
}
END_TEST

/* What the two BARs' tests count, and what they never count. */
START_TEST(counting_rules)
{
    struct bar_access m;
    uint32_t off, data;

    realize(pio_table, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV);
    m = mem_bar();
    /* Test 2 counts only 4-byte writes of its data. */
    wr(m, PCI_TESTDEV_REG_TEST, 2, 1);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_WIDTH, 1), 4);
    off = rd(m, PCI_TESTDEV_REG_OFFSET, 4);
    data = rd(m, PCI_TESTDEV_REG_DATA, 4);
    ck_assert_uint_ge(off, PCI_TESTDEV_HEADER_SIZE);
    ck_assert_uint_lt(off, PCI_TESTDEV_IO_SIZE);
    wr(m, off, data ^ 1, 4);             /* another value */
    wr(m, off, data, 2);                 /* another width */
    wr(m, off, data, 1);
    wr(m, off + 1, data, 1);             /* inside the doorbell, not at it */
    wr(m, PCI_TESTDEV_REG_COUNT, 99, 4); /* read-only */
    wr(m, PCI_TESTDEV_REG_WIDTH, 1, 1);  /* read-only */
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 0);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_WIDTH, 1), 4);
    wr(m, off, data, 4);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 1);
    /* Test 0 counts byte writes whatever their value, at its doorbell only;
     * test 2's doorbell does not count for it. */
    wr(m, PCI_TESTDEV_REG_TEST, 0, 1);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 0);
    wr(m, rd(m, PCI_TESTDEV_REG_OFFSET, 4), 0x77, 1);
    wr(m, off, 0x77, 1);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 1);
    /* The I/O BAR has its own selection and count. */
    {
        struct bar_access io = { IOBUS_PIO, cfg_read(PCI_BAR0 + 4, 4) & ~3U };

        ck_assert_uint_eq(rd(io, PCI_TESTDEV_REG_TEST, 1), 0);
        ck_assert_uint_eq(rd(io, PCI_TESTDEV_REG_COUNT, 4), 0);
        wr(io, PCI_TESTDEV_REG_TEST, 1, 1);
        ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_TEST, 1), 0);
        ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 1);
        /* A selection written as a dword takes its low byte. */
        wr(io, PCI_TESTDEV_REG_TEST, 0x102, 4);
        ck_assert_uint_eq(rd(io, PCI_TESTDEV_REG_WIDTH, 1), 4);
        /* Past the header: zeros; past the BAR: nobody's. */
        ck_assert_uint_eq(rd(io, PCI_TESTDEV_HEADER_SIZE, 4), 0);
        ck_assert_uint_eq(rd(io, PCI_TESTDEV_IO_SIZE - 4, 4), 0);
        ck_assert_uint_eq(rd(io, PCI_TESTDEV_IO_SIZE - 2, 4), 0xffffffff);
    }
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_MEM_SIZE - 4, 4), 0);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_MEM_SIZE - 1, 2), 0xffff);
    /* A header read straddling its end: the header bytes, then zeros. */
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_HEADER_SIZE - 2, 4), 0);
    /* Reset: every selection and count back to 0. */
    devices_reset(&devs);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_COUNT, 4), 0);
    ck_assert_uint_eq(rd(m, PCI_TESTDEV_REG_WIDTH, 1), 1);
    teardown();
}
END_TEST

/* The device exists only when the VM's boot mask carries its flag. */
START_TEST(off_unless_asked)
{
    realize(pio_table, DEVICE_BOOT_LINUX);
    ck_assert_uint_eq(devs.devices->len, 1);
    ck_assert_uint_eq(cfg_read(PCI_VENDOR_ID, 4), 0xffffffff);
    teardown();
    /* A firmware boot has no PCI host: neither line, even when asked. */
    realize(pio_table, DEVICE_BOOT_FIRMWARE | DEVICE_PCI_TESTDEV);
    ck_assert_ptr_null(devs.devices);
    teardown();
}
END_TEST

/* No I/O window: a function with an I/O BAR cannot join the bus, and the
 * bus is left as it was. */
START_TEST(no_io_window)
{
    static const struct pci_host_params params = { .window_base = WINDOW,
                                                   .window_size = 0x100000 };
    static const struct device_desc table[] = {
        { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_LINUX, &params },
        { &pci_testdev_device, SLOT, 0, -1, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV },
    };
    struct device_ctx ctx = { .iobus = &bus };
    GError *err = NULL;
    struct pci_bus *pci;

    iobus_init(&bus);
    devs.devices = NULL;
    ck_assert(!devices_realize(&devs, table, 2, DEVICE_BOOT_LINUX | DEVICE_PCI_TESTDEV, &ctx,
                               -1, NULL, &err));
    ck_assert_ptr_nonnull(strstr(err->message, "I/O window"));
    g_clear_error(&err);
    pci = pci_host_bus(g_ptr_array_index(devs.devices, 0));
    ck_assert_uint_eq(pci->next_bar, WINDOW);
    ck_assert_ptr_null(pci->slots[SLOT]);
    teardown();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pci-testdev");
    TCase *tc = tcase_create("pci-testdev");

    tcase_add_test(tc, ids_bars_and_decoding);
    tcase_add_test(tc, kut_driver_over_ports);
    tcase_add_test(tc, kut_driver_over_mmio_io_window);
    tcase_add_test(tc, counting_rules);
    tcase_add_test(tc, off_unless_asked);
    tcase_add_test(tc, no_io_window);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
