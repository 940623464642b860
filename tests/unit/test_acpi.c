/*
 * The ACPI tables an x86_64 Linux guest boots with, generated from the
 * machine table's devices (their acpi hooks): byte for byte what guests
 * saw before the device model (issue 11), whose SHA-256 is pinned here.
 * A change to these hashes is a change every Linux guest sees: make it
 * on purpose, and boot the bed's Linux tests.
 */
#include <check.h>

#include "vmm/machine.h"
#include "vmm/vm.h"
#include "x86-linux.h"

#include "unit.h"

static char *tables_sha256(unsigned nr_vcpus, GByteArray *dsdt_out)
{
    struct vm vm = { 0 };
    uint64_t size = 2 << 20, rsdp = 0;
    g_autofree uint8_t *ram = g_malloc0(size);
    GError *err = NULL;
    char *sum;

    vm.name = "acpi";
    vm.fd = -1;
    vm.flags = VM_LINUX;
    vm.nr_vcpus = nr_vcpus;
    vm.mem.regions[0] = (struct mem_region){ .gpa = 0, .size = size, .hva = ram };
    vm.mem.nr = 1;
    vm.mem.ram = &vm.mem.regions[0];
    vm.ram_size = size;
    iobus_init(&vm.iobus);
    ck_assert(machine_realize(&vm, NULL));
    ck_assert_msg(x86_acpi_build(&vm, &rsdp, &err), "%s", err ? err->message : "");
    ck_assert_uint_eq(rsdp, X86_ACPI_BASE);
    sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, ram + X86_ACPI_BASE, X86_ACPI_SIZE);
    if (dsdt_out)
        g_byte_array_append(dsdt_out, ram + X86_ACPI_BASE, X86_ACPI_SIZE);
    devices_destroy(&vm.devices);
    iobus_destroy(&vm.iobus);
    return sum;
}

START_TEST(tables_unchanged)
{
    g_autofree char *one = tables_sha256(1, NULL);
    g_autofree char *four = tables_sha256(4, NULL);

    ck_assert_str_eq(one, "3c27a2a88e51fb810ba927cc6f38748ee68d2159999fbd7c92f68464d2c9ead5");
    ck_assert_str_eq(four, "d3aca291a09338e75139c071b42e0317eec9d0eb09a0a08c20eb8e4d75628ccd");
}
END_TEST

/* What the hooks put there, so a hash mismatch has a readable companion. */
START_TEST(dsdt_has_the_devices)
{
    g_autoptr(GByteArray) area = g_byte_array_new();
    g_autofree char *sum = tables_sha256(1, area);
    static const uint8_t com1_io[] = { 0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08 };
    static const uint8_t irq4[] = { 0x22, 0x10, 0x00 };
    static const uint8_t pnp0a03[] = { 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
    static const uint8_t conf1_io[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
    static const uint8_t window[] = { 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xdf };
    /* WordIO: produced, fixed, ports 0xd000-0xdfff, no translation, 4 KiB */
    static const uint8_t io_window[] = { 0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0x00, 0x00,
                                         0x00, 0xd0, 0xff, 0xdf, 0x00, 0x00, 0x00, 0x10 };

    ck_assert_ptr_nonnull(memmem(area->data, area->len, "_S5_", 4));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, "_SB_", 4));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, "COM1", 4));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, com1_io, sizeof(com1_io)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, irq4, sizeof(irq4)));
    /* The PCI host bridge: PNP0A03, the 0xcf8 ports and the windows in _CRS. */
    ck_assert_ptr_nonnull(memmem(area->data, area->len, "PCI0", 4));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, pnp0a03, sizeof(pnp0a03)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, conf1_io, sizeof(conf1_io)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, window, sizeof(window)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, io_window, sizeof(io_window)));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("acpi");

    tcase_add_test(tc, tables_unchanged);
    tcase_add_test(tc, dsdt_has_the_devices);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
