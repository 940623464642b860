#include "vmm/hw/acpi_sleep.h"
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

bool acpi_sleep_register(struct vm *vm, GError **error)
{
    G_STATIC_ASSERT(ACPI_SLEEP_STATUS_PORT == ACPI_SLEEP_CONTROL_PORT + 1);
    return iobus_register(&vm->iobus, IOBUS_PIO, ACPI_SLEEP_CONTROL_PORT, 2, sleep_io, NULL,
                          "acpi-sleep", error);
}
