/*
 * Minimal ACPI tables for a Linux guest: the kernel has no MP-table parser
 * (CONFIG_X86_MPPARSE is off in distribution kernels) so the MADT is how
 * it finds every vCPU and the IOAPIC, and a hardware-reduced FADT with a
 * DSDT is how it powers off (the sleep control register, src/devices/acpi_sleep.c),
 * resets (RESET_REG: the i8042's reset command) and finds the UART's IRQ.
 * Field offsets follow the ACPI 6.x specification, sections 5.2.
 */
#include <string.h>

#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/hw/aml.h"
#include "vmm/vm.h"
#include "x86-linux.h"

#define OEM_ID        "VMM   "
#define OEM_TABLE_ID  "VMMTABLE"
#define HEADER_SIZE   36

#define FADT_SIZE     276   /* revision 6 */
#define FADT_FLAG_RESET_REG_SUP   (1U << 10)
#define FADT_FLAG_HW_REDUCED      (1U << 20)
#define FADT_BOOT_NO_VGA          (1U << 2)
#define FADT_BOOT_NO_CMOS_RTC     (1U << 5)  /* and no 8042 bit: no keyboard to probe */
#define FADT_CENTURY_REG          0x32       /* the CMOS RTC's century byte */
#define FACS_SIZE     64
#define GAS_IO        1
#define MADT_PCAT_COMPAT          1

/*
 * The DSDT holds what the devices say of themselves (their acpi hooks:
 * \_S5 from the sleep register, Device (COM1) from the UART, in
 * Scope (\_SB_)), and the FADT points at the registers they implement.
 */
static GByteArray *dsdt_aml(struct device_acpi *d)
{
    GByteArray *a = g_byte_array_new();

    aml_bytes(a, d->dsdt->data, d->dsdt->len);
    if (d->sb->len) {
        GByteArray *scope = g_byte_array_new();

        aml_bytes(scope, "_SB_", 4);
        aml_bytes(scope, d->sb->data, d->sb->len);
        aml_byte(a, AML_SCOPE);
        aml_pkg(a, scope);
    }
    return a;
}

struct table_writer {
    uint8_t *base;   /* host address of the area */
    uint64_t gpa;    /* its guest-physical address */
    size_t used, size;
};

static void put8(uint8_t *p, size_t off, uint8_t v) { p[off] = v; }
static void put16(uint8_t *p, size_t off, uint16_t v) { memcpy(p + off, &v, 2); }
static void put32(uint8_t *p, size_t off, uint32_t v) { memcpy(p + off, &v, 4); }
static void put64(uint8_t *p, size_t off, uint64_t v) { memcpy(p + off, &v, 8); }

static uint8_t checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;

    while (len--)
        sum += *p++;
    return (uint8_t)-sum;
}

/* Reserves @len bytes (16-byte aligned), zeroed; returns NULL when full. */
static uint8_t *alloc(struct table_writer *w, size_t len, uint64_t *gpa)
{
    size_t at = (w->used + 15) & ~(size_t)15;

    if (at > w->size || len > w->size - at)
        return NULL;
    w->used = at + len;
    *gpa = w->gpa + at;
    memset(w->base + at, 0, len);
    return w->base + at;
}

static uint8_t *table(struct table_writer *w, const char *sig, uint8_t rev, size_t len,
                      uint64_t *gpa)
{
    uint8_t *t = alloc(w, len, gpa);

    if (!t)
        return NULL;
    memcpy(t, sig, 4);
    put32(t, 4, len);
    put8(t, 8, rev);
    memcpy(t + 10, OEM_ID, 6);
    memcpy(t + 16, OEM_TABLE_ID, 8);
    put32(t, 24, 1);                 /* OEM revision */
    memcpy(t + 28, "VMM ", 4);       /* creator */
    put32(t, 32, 1);
    return t;
}

static void seal(uint8_t *t)
{
    uint32_t len;

    memcpy(&len, t + 4, 4);
    t[9] = 0;
    t[9] = checksum(t, len);
}

static void gas_io(uint8_t *p, size_t off, uint16_t port, uint8_t bits)
{
    put8(p, off, GAS_IO);
    put8(p, off + 1, bits);
    put8(p, off + 3, 1); /* byte access */
    put64(p, off + 4, port);
}

static uint8_t *madt(struct table_writer *w, struct vm *vm, uint64_t *gpa)
{
    size_t len = HEADER_SIZE + 8 + vm->nr_vcpus * 8 + 12;
    uint8_t *t = table(w, "APIC", 5, len, gpa);
    size_t off = HEADER_SIZE + 8;

    if (!t)
        return NULL;
    put32(t, 36, X86_LAPIC_BASE);
    put32(t, 40, MADT_PCAT_COMPAT);
    for (unsigned i = 0; i < vm->nr_vcpus; i++, off += 8) {
        put8(t, off, 0);          /* processor local APIC */
        put8(t, off + 1, 8);
        put8(t, off + 2, i);      /* ACPI processor UID */
        put8(t, off + 3, i);      /* APIC ID: the vCPU index (cpuid leaf 1) */
        put32(t, off + 4, 1);     /* enabled */
    }
    put8(t, off, 1);              /* I/O APIC */
    put8(t, off + 1, 12);
    put8(t, off + 2, vm->nr_vcpus); /* an ID no CPU has */
    put32(t, off + 4, X86_IOAPIC_BASE);
    put32(t, off + 8, 0);         /* GSI base; KVM wires ISA IRQ n to pin n */
    seal(t);
    return t;
}

/* The FACS, 64-byte aligned, whose waking vector an S3 sleeper leaves
 * (arch_vcpu_s3_resume() reads it). */
static uint8_t *facs(struct table_writer *w, uint64_t *gpa)
{
    uint64_t pad = (64 - (w->gpa + w->used) % 64) % 64;
    uint8_t *t;

    if (pad > w->size - w->used)
        return NULL;
    w->used += pad;
    t = alloc(w, FACS_SIZE, gpa);
    if (!t)
        return NULL;
    memcpy(t, "FACS", 4);
    put32(t, 4, FACS_SIZE);
    put8(t, 32, 2);               /* version */
    return t;
}

static uint8_t *fadt(struct table_writer *w, const struct device_acpi *d, uint64_t dsdt,
                     uint64_t facs_at, uint64_t *gpa)
{
    uint8_t *t = table(w, "FACP", 6, FADT_SIZE, gpa);

    if (!t)
        return NULL;
    put32(t, 40, (uint32_t)dsdt);
    if (facs_at) {
        put32(t, 36, (uint32_t)facs_at);     /* FIRMWARE_CTRL */
        put64(t, 132, facs_at);              /* X_FIRMWARE_CTRL */
    }
    if (d->pm1_evt_port) {
        put32(t, 56, d->pm1_evt_port);       /* PM1a_EVT_BLK */
        put32(t, 64, d->pm1_cnt_port);       /* PM1a_CNT_BLK */
        put8(t, 88, 4);                      /* PM1_EVT_LEN */
        put8(t, 89, 2);                      /* PM1_CNT_LEN */
        gas_io(t, 148, d->pm1_evt_port, 32); /* X_PM1a_EVT_BLK */
        gas_io(t, 172, d->pm1_cnt_port, 16); /* X_PM1a_CNT_BLK */
    }
    if (d->cmos_rtc)
        put8(t, 108, FADT_CENTURY_REG);
    put16(t, 109, FADT_BOOT_NO_VGA | (d->cmos_rtc ? 0 : FADT_BOOT_NO_CMOS_RTC));
    put32(t, 112, FADT_FLAG_HW_REDUCED | (d->reset_port ? FADT_FLAG_RESET_REG_SUP : 0));
    if (d->reset_port) {
        gas_io(t, 116, d->reset_port, 8);     /* RESET_REG */
        put8(t, 128, d->reset_value);         /* RESET_VALUE */
    }
    put8(t, 131, 1);                          /* FADT minor version: 6.1 */
    put64(t, 140, dsdt);                      /* X_DSDT */
    if (d->sleep_control_port) {
        gas_io(t, 244, d->sleep_control_port, 8);
        gas_io(t, 256, d->sleep_status_port, 8);
    }
    memcpy(t + 268, "VMM     ", 8);           /* hypervisor vendor identity */
    seal(t);
    return t;
}

bool x86_acpi_build(struct vm *vm, uint64_t *rsdp_gpa, GError **error)
{
    struct table_writer w = {
        .base = gpa_to_hva(&vm->mem, X86_ACPI_BASE, X86_ACPI_SIZE),
        .gpa = X86_ACPI_BASE, .size = X86_ACPI_SIZE,
    };
    uint64_t rsdp, dsdt_at, fadt_at, madt_at, xsdt_at, facs_at = 0;
    struct device_acpi devs = { .dsdt = g_byte_array_new(), .sb = g_byte_array_new() };
    g_autoptr(GByteArray) aml = NULL;
    uint8_t *r, *d, *x;
    bool fits;

    devices_acpi(&vm->devices, &devs);
    aml = dsdt_aml(&devs);

    if (!w.base) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "no RAM for the ACPI tables");
        return false;
    }
    /* The RSDP first: 16-byte aligned in 0xe0000-0xfffff, where Linux also
     * scans for it when boot_params has no address. */
    r = alloc(&w, 36, &rsdp);
    d = table(&w, "DSDT", 2, HEADER_SIZE + aml->len, &dsdt_at);
    fits = r && d && (!devs.pm1_evt_port || facs(&w, &facs_at)) &&
           fadt(&w, &devs, dsdt_at, facs_at, &fadt_at) && madt(&w, vm, &madt_at) &&
           (x = table(&w, "XSDT", 1, HEADER_SIZE + 16, &xsdt_at));
    g_byte_array_unref(devs.dsdt);
    g_byte_array_unref(devs.sb);
    if (!fits) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "the ACPI tables do not fit");
        return false;
    }
    memcpy(d + HEADER_SIZE, aml->data, aml->len);
    seal(d);
    put64(x, HEADER_SIZE, fadt_at);
    put64(x, HEADER_SIZE + 8, madt_at);
    seal(x);

    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, OEM_ID, 6);
    put8(r, 15, 2);               /* ACPI 2.0+: XSDT */
    put32(r, 20, 36);
    put64(r, 24, xsdt_at);
    r[8] = checksum(r, 20);
    r[32] = checksum(r, 36);
    *rsdp_gpa = rsdp;
    vm->arch.facs_gpa = facs_at;
    return true;
}
