#include <libfdt.h>
#include <string.h>

#include "vmm-guest/platform.h"
#include "vmm/error.h"
#include "vmm/hw/dt.h"
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

static bool debug_exit_realize(struct device *dev, const struct device_ctx *ctx,
                               GError **error)
{
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 4, debug_exit_io, NULL,
                          "debug-exit", error);
}

static bool exit_status_realize(struct device *dev, const struct device_ctx *ctx,
                                GError **error)
{
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 4, status_io, NULL,
                          "exit-status", error);
}

static bool exit_mmio_realize(struct device *dev, const struct device_ctx *ctx,
                              GError **error)
{
    return iobus_register(ctx->iobus, IOBUS_MMIO, dev->desc->base, dev->desc->size, exit_mmio,
                          NULL, "exit-device", error);
}

static int exit_mmio_fdt(const struct device *dev, struct device_fdt *f)
{
    static const char compat[] = "vmm,exit-device";

    int err = device_fdt_begin(f, dev, compat, sizeof(compat));

    return err | fdt_end_node(f->fdt);
}

const struct device_ops debug_exit_device = {
    .name = "debug-exit",
    .realize = debug_exit_realize,
};

const struct device_ops exit_status_device = {
    .name = "exit-status",
    .realize = exit_status_realize,
};

const struct device_ops exit_mmio_device = {
    .name = "exit-device",
    .dt_name = "vmm-exit",
    .realize = exit_mmio_realize,
    .fdt = exit_mmio_fdt,
};
