/* fw_cfg's selector and data ports, for the items vmm/hw/fw_cfg.h lists. */
#include <string.h>

#include "vmm/hw/fw_cfg.h"
#include "vmm/iobus.h"

struct fw_cfg {
    GMutex lock;        /* a selector and its read offset go together */
    uint64_t ram_size;
    uint16_t nr_cpus;
    uint16_t selector;
    uint32_t offset;    /* the next data byte of the selected item */
};

/* The selected item's bytes (little-endian, as fw_cfg's numbers are). */
static size_t item(const struct fw_cfg *f, uint8_t out[8])
{
    switch (f->selector) {
    case FW_CFG_SIGNATURE:
        memcpy(out, "QEMU", 4);
        return 4;
    case FW_CFG_ID:
        out[0] = 1;     /* the traditional interface only: no DMA */
        return 4;
    case FW_CFG_RAM_SIZE:
        for (int i = 0; i < 8; i++)
            out[i] = f->ram_size >> (i * 8);
        return 8;
    case FW_CFG_NB_CPUS:
    case FW_CFG_MAX_CPUS:
        out[0] = f->nr_cpus;
        out[1] = f->nr_cpus >> 8;
        return 2;
    default:
        return 0;
    }
}

static void fw_cfg_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                      unsigned len, bool is_write)
{
    struct fw_cfg *f = opaque;
    uint8_t bytes[8] = { 0 };
    size_t size;

    g_mutex_lock(&f->lock);
    if (offset == 0 && is_write) {
        uint16_t sel = 0;

        memcpy(&sel, data, MIN(len, 2u));
        f->selector = sel;
        f->offset = 0;
    } else if (offset == 1 && !is_write) {
        /* each byte read is the item's next; past its end, zeros */
        size = item(f, bytes);
        for (unsigned i = 0; i < len; i++, f->offset++)
            data[i] = f->offset < size ? bytes[f->offset] : 0;
    } else if (!is_write) {
        memset(data, 0, len);
    }
    g_mutex_unlock(&f->lock);
}

static bool fw_cfg_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct fw_cfg *f = g_new0(struct fw_cfg, 1);

    g_mutex_init(&f->lock);
    f->ram_size = ctx->ram_size;
    f->nr_cpus = MIN(ctx->nr_vcpus, G_MAXUINT16);
    dev->state = f;
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, 2, fw_cfg_io, f, "fw_cfg",
                          error);
}

static void fw_cfg_reset(struct device *dev)
{
    struct fw_cfg *f = dev->state;

    g_mutex_lock(&f->lock);
    f->selector = 0;
    f->offset = 0;
    g_mutex_unlock(&f->lock);
}

static void fw_cfg_destroy(struct device *dev)
{
    struct fw_cfg *f = dev->state;

    g_mutex_clear(&f->lock);
    g_free(f);
}

const struct device_ops fw_cfg_device = {
    .name = "fw_cfg",
    .realize = fw_cfg_realize,
    .reset = fw_cfg_reset,
    .destroy = fw_cfg_destroy,
};
