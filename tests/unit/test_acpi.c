/*
 * The ACPI tables an x86_64 Linux guest boots with, generated from the
 * machine table's devices (their acpi hooks): byte for byte what guests
 * saw before the device model (issue 11), whose SHA-256 is pinned here.
 * A change to these hashes is a change every Linux guest sees: make it
 * on purpose, and boot the bed's Linux tests.
 */
#include <check.h>

#include <string.h>

#include "vmm/arch.h"
#include "vmm/hw/acpi_pm1.h"
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

    ck_assert_str_eq(one, "98b9db2cdcfa9f8e8cff8083385861fe304855ec06f6922b48d45a6d949c47dc");
    ck_assert_str_eq(four, "d2e2e85edd3ca19f7e665f846725ac343f9b84cade7089ae1b27dc935b3f4398");
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
    static const uint8_t pnp0b00[] = { 0x0c, 0x41, 0xd0, 0x0b, 0x00 };
    static const uint8_t rtc_io[] = { 0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02 };
    static const uint8_t irq8[] = { 0x22, 0x00, 0x01 };

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
    /* The CMOS RTC: PNP0B00, ports 0x70-0x71, IRQ 8. */
    ck_assert_ptr_nonnull(memmem(area->data, area->len, "RTC_", 4));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, pnp0b00, sizeof(pnp0b00)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, rtc_io, sizeof(rtc_io)));
    ck_assert_ptr_nonnull(memmem(area->data, area->len, irq8, sizeof(irq8)));
    /* No \_S3: Linux must not offer a suspend vmm cannot wake it from. */
    ck_assert_ptr_null(memmem(area->data, area->len, "_S3_", 4));
}
END_TEST

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* The FADT stays hardware-reduced and also points at the PM1a blocks, a
 * 64-byte aligned FACS and the RTC's century byte (kvm-unit-tests' s3). */
START_TEST(fadt_has_pm1_and_facs)
{
    g_autoptr(GByteArray) area = g_byte_array_new();
    g_autofree char *sum = tables_sha256(1, area);
    const uint8_t *fadt = memmem(area->data, area->len, "FACP", 4);
    uint32_t facs;

    ck_assert_ptr_nonnull(fadt);
    ck_assert(get32(fadt + 112) & (1U << 20));               /* HW_REDUCED_ACPI */
    ck_assert(!(fadt[109] & (1U << 5)));                     /* a CMOS RTC is there */
    ck_assert_uint_eq(fadt[108], 0x32);                      /* CENTURY */
    ck_assert_uint_eq(get32(fadt + 56), ACPI_PM1_EVT_PORT);  /* PM1a_EVT_BLK */
    ck_assert_uint_eq(get32(fadt + 64), ACPI_PM1_EVT_PORT + 4); /* PM1a_CNT_BLK */
    ck_assert_uint_eq(fadt[88], 4);
    ck_assert_uint_eq(fadt[89], 2);
    facs = get32(fadt + 36);
    ck_assert_uint_eq(facs % 64, 0);
    ck_assert_uint_ge(facs, X86_ACPI_BASE);
    ck_assert_uint_lt(facs - X86_ACPI_BASE + 64, X86_ACPI_SIZE + 1);
    ck_assert_int_eq(memcmp(area->data + (facs - X86_ACPI_BASE), "FACS", 4), 0);
    ck_assert_uint_eq(get32(area->data + (facs - X86_ACPI_BASE) + 4), 64);
}
END_TEST

/* The waking vector is the guest's to write: what arch_vcpu_s3_resume()
 * refuses before it touches the vCPU (here without KVM, so a vector it
 * takes fails at KVM_GET_SREGS on the fake vCPU's fd). */
START_TEST(s3_resume_checks_the_waking_vector)
{
    struct vm vm = { 0 };
    struct vcpu vcpu = { .vm = &vm, .fd = -1 };
    uint64_t size = 2 << 20, rsdp = 0, xvector = 0x100000;
    g_autofree uint8_t *ram = g_malloc0(size);
    static const struct { uint32_t vector; const char *says; } cases[] = {
        { 0, "waking vector 0 is not real-mode RAM" },
        { 0x100000, "waking vector 0x100000 is not real-mode RAM" },
        { 0xffffffff, "is not real-mode RAM" },
        { 0x1000, "KVM_GET_SREGS" },
    };
    GError *err = NULL;
    uint8_t *facs;

    vm.name = "acpi";
    vm.fd = -1;
    vm.flags = VM_LINUX;
    vm.nr_vcpus = 1;
    vm.mem.regions[0] = (struct mem_region){ .gpa = 0, .size = size, .hva = ram };
    vm.mem.nr = 1;
    vm.mem.ram = &vm.mem.regions[0];
    vm.ram_size = size;
    iobus_init(&vm.iobus);
    ck_assert(!arch_vcpu_s3_resume(&vcpu, &err));
    ck_assert_msg(strstr(err->message, "no FACS"), "%s", err->message);
    g_clear_error(&err);
    ck_assert(machine_realize(&vm, NULL));
    ck_assert(x86_acpi_build(&vm, &rsdp, NULL));
    ck_assert_uint_ne(vm.arch.facs_gpa, 0);
    facs = ram + vm.arch.facs_gpa;
    for (unsigned i = 0; i < G_N_ELEMENTS(cases); i++) {
        memcpy(facs + 12, &cases[i].vector, 4);
        ck_assert(!arch_vcpu_s3_resume(&vcpu, &err));
        ck_assert_msg(strstr(err->message, cases[i].says), "%s", err->message);
        g_clear_error(&err);
    }
    memcpy(facs + 24, &xvector, 8);
    ck_assert(!arch_vcpu_s3_resume(&vcpu, &err));
    ck_assert_msg(strstr(err->message, "protected-mode wake"), "%s", err->message);
    g_clear_error(&err);
    devices_destroy(&vm.devices);
    iobus_destroy(&vm.iobus);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("acpi");
    TCase *tc = tcase_create("acpi");

    tcase_add_test(tc, tables_unchanged);
    tcase_add_test(tc, dsdt_has_the_devices);
    tcase_add_test(tc, fadt_has_pm1_and_facs);
    tcase_add_test(tc, s3_resume_checks_the_waking_vector);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
