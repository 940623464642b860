#include "vmm/hw/acpi_sleep.h"
#include "vmm/hw/aml.h"
#include "vmm/vm.h"

#define SLP_EN       0x20
#define SLP_TYP(v)   (((v) >> 2) & 0x7)
#define WAK_STS      0x80

static void sleep_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                     unsigned len, bool is_write)
{
    if (!is_write) {
        /* Status: "woken"; control: nothing pending. */
        data[0] = offset == 1 ? WAK_STS : 0;
        return;
    }
    /* Other sleep states (S1-S4) are not offered: \_S5 is the only one. */
    if (offset == 0 && (data[0] & SLP_EN) && SLP_TYP(data[0]) == ACPI_S5_SLP_TYP)
        vm_stop(vcpu->vm, VM_STOP_POWEROFF, 0, NULL);
}

static bool sleep_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    /* Control, then status: the FADT's two registers. */
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 2, sleep_io, NULL,
                          "acpi-sleep", error);
}

/* Name (_S5_, Package (4) { 5, 5, 0, 0 }), and the FADT's registers. */
static void sleep_acpi(const struct device *dev, struct device_acpi *a)
{
    GByteArray *pkg = g_byte_array_new();

    aml_byte(a->dsdt, AML_NAME);
    aml_bytes(a->dsdt, "_S5_", 4);
    aml_byte(a->dsdt, AML_PACKAGE);
    aml_byte(pkg, 4);
    for (int i = 0; i < 2; i++) {
        aml_byte(pkg, AML_BYTE);
        aml_byte(pkg, ACPI_S5_SLP_TYP);
    }
    aml_byte(pkg, 0);
    aml_byte(pkg, 0);
    aml_pkg(a->dsdt, pkg);
    a->sleep_control_port = dev->desc->base;
    a->sleep_status_port = dev->desc->base + 1;
}

const struct device_ops acpi_sleep_device = {
    .name = "acpi-sleep",
    .realize = sleep_realize,
    .acpi = sleep_acpi,
};
