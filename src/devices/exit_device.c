#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/error.h"
#include "vmm/hw/exit_device.h"
#include "vmm/vm.h"

static uint32_t le_value(const uint8_t *data, unsigned len)
{
    uint32_t v = 0;

    memcpy(&v, data, len < 4 ? len : 4);
    return v;
}

static void debug_exit_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                          unsigned len, bool is_write)
{
    if (is_write)
        vm_guest_exit(vcpu->vm, (le_value(data, len) << 1) | 1);
    else
        memset(data, 0xff, len);
}

static void status_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                      unsigned len, bool is_write)
{
    if (is_write)
        vm_guest_exit(vcpu->vm, le_value(data, len));
    else
        memset(data, 0xff, len);
}

static void exit_mmio(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                      unsigned len, bool is_write)
{
    if (!is_write) {
        memset(data, 0, len);
        return;
    }
    switch (offset) {
    case VMM_EXIT_REG_DEBUG_EXIT:
        debug_exit_io(vcpu, opaque, 0, data, len, true);
        break;
    case VMM_EXIT_REG_STATUS:
        status_io(vcpu, opaque, 0, data, len, true);
        break;
    case VMM_EXIT_REG_CRASH:
        vcpu_crash(vcpu, "unhandled exception, vector offset %#x",
                   le_value(data, len) * 0x80);
        break;
    default:
        break;
    }
}

bool exit_device_register_pio(struct vm *vm, uint16_t debug_exit_port,
                              uint16_t status_port, GError **error)
{
    return iobus_register(&vm->iobus, IOBUS_PIO, debug_exit_port, 4, debug_exit_io, NULL,
                          "debug-exit", error) &&
           iobus_register(&vm->iobus, IOBUS_PIO, status_port, 4, status_io, NULL,
                          "exit-status", error);
}

bool exit_device_register_mmio(struct vm *vm, uint64_t base, uint64_t size, GError **error)
{
    return iobus_register(&vm->iobus, IOBUS_MMIO, base, size, exit_mmio, NULL,
                          "exit-device", error);
}
