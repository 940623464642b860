/*
 * i8042: enough of the controller for a driver's probe (command byte,
 * self-tests) and for the reset line: command 0xfe, or a write of the
 * output port with the reset bit low, ends the VM as a guest reset.
 */
#include "vmm/hw/aml.h"
#include "vmm/hw/i8042.h"
#include "vmm/vm.h"

#define STS_OBF   0x01
#define STS_SYS   0x04
#define STS_CMD   0x08

struct i8042 {
    GMutex lock;
    uint8_t ccb;      /* controller command byte */
    uint8_t out;      /* output buffer */
    bool out_full;
    uint8_t pending;  /* command waiting for its data byte, 0 for none */
};

static void reply(struct i8042 *k, uint8_t v)
{
    k->out = v;
    k->out_full = true;
}

static void reset(struct vcpu *vcpu)
{
    vm_stop(vcpu->vm, VM_STOP_RESET, 0, "guest reset (i8042): the VM ends");
}

static void command(struct vcpu *vcpu, struct i8042 *k, uint8_t cmd)
{
    switch (cmd) {
    case 0x20: reply(k, k->ccb); break;          /* read command byte */
    case 0x60: case 0xd1: k->pending = cmd; break; /* write command byte / output port */
    case 0xaa: reply(k, 0x55); break;            /* controller self-test passed */
    case 0xab: case 0xa9: reply(k, 0x00); break; /* port tests passed */
    case 0xd0: reply(k, 0x01); break;            /* output port: reset line high */
    case I8042_CMD_RESET: reset(vcpu); break;
    default: break;                              /* enable/disable ports and the like */
    }
}

static void data_write(struct vcpu *vcpu, struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending;

    k->pending = 0;
    if (cmd == 0x60)
        k->ccb = v;
    else if (cmd == 0xd1 && !(v & 0x01)) /* bit 0 of the output port is reset, active low */
        reset(vcpu);
    /* Bytes for the (absent) keyboard are dropped: it never answers. */
}

static void i8042_io(struct vcpu *vcpu, struct i8042 *k, bool is_data, uint8_t *data,
                     unsigned len, bool is_write)
{
    uint8_t v = data[0];

    g_mutex_lock(&k->lock);
    if (is_data && is_write) {
        data_write(vcpu, k, v);
    } else if (is_data) {
        data[0] = k->out;
        k->out_full = false;
    } else if (is_write) {
        command(vcpu, k, v);
    } else {
        data[0] = (k->out_full ? STS_OBF : 0) | STS_SYS | (k->pending ? STS_CMD : 0);
    }
    for (unsigned i = 1; i < len && !is_write; i++)
        data[i] = 0xff;
    g_mutex_unlock(&k->lock);
}

static void data_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                    unsigned len, bool is_write)
{
    i8042_io(vcpu, opaque, true, data, len, is_write);
}

static void cmd_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    i8042_io(vcpu, opaque, false, data, len, is_write);
}

static void i8042_power_on(struct i8042 *k)
{
    k->ccb = 0x30; /* both ports disabled, no interrupts */
    k->out = 0;
    k->out_full = false;
    k->pending = 0;
}

static bool i8042_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct i8042 *k = g_new0(struct i8042, 1);
    uint64_t data = dev->desc->base, cmd = data + I8042_CMD_PORT - I8042_DATA_PORT;

    g_mutex_init(&k->lock);
    i8042_power_on(k);
    dev->state = k;
    return iobus_register(ctx->iobus, IOBUS_PIO, data, 1, data_io, k, "i8042", error) &&
           iobus_register(ctx->iobus, IOBUS_PIO, cmd, 1, cmd_io, k, "i8042", error);
}

static void i8042_reset(struct device *dev)
{
    struct i8042 *k = dev->state;

    g_mutex_lock(&k->lock);
    i8042_power_on(k);
    g_mutex_unlock(&k->lock);
}

static void i8042_destroy(struct device *dev)
{
    struct i8042 *k = dev->state;

    g_mutex_clear(&k->lock);
    g_free(k);
}

/* The FADT's RESET_REG: the reset command on the command port. */
static void i8042_acpi(const struct device *dev, struct device_acpi *a)
{
    a->reset_port = dev->desc->base + I8042_CMD_PORT - I8042_DATA_PORT;
    a->reset_value = I8042_CMD_RESET;
}

const struct device_ops i8042_device = {
    .name = "i8042",
    .realize = i8042_realize,
    .reset = i8042_reset,
    .destroy = i8042_destroy,
    .acpi = i8042_acpi,
};
