/*
 * PL031 real-time clock. RTCDR counts seconds: it starts at the host's
 * wall-clock time (UTC) and advances with the host's monotonic clock, so a
 * change of the host's date does not move it; a write of RTCLR sets it.
 * When the count reaches RTCMR the match interrupt's raw status (RTCRIS)
 * is latched; the line follows RTCRIS & RTCIMSC, and RTCICR clears it.
 *
 * The match is evaluated against the clock at every access, so the
 * status and the line are exact whenever the guest looks (what
 * kvm-unit-tests' arm/pl031 checks); there is no host timer, so a guest
 * that waits for the match interrupt without touching the RTC gets it at
 * its next access (docs/devices.md).
 */
#include <libfdt.h>
#include <string.h>

#include "vmm/hw/dt.h"
#include "vmm/hw/pl031.h"
#include "vmm/iobus.h"

#define RTCDR    0x00
#define RTCMR    0x04
#define RTCLR    0x08
#define RTCCR    0x0c
#define RTCIMSC  0x10
#define RTCRIS   0x14
#define RTCMIS   0x18
#define RTCICR   0x1c
#define RTCPID0  0xfe0
#define INT_MATCH 0x1
#define NSEC     1000000000LL

/* PrimeCell peripheral and cell ID bytes of a PL031 (r1p0). */
static const uint8_t pl031_id[8] = { 0x31, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

struct pl031 {
    struct irq_line irq;     /* first: the unit tests read its level */
    GMutex lock;
    bool has_irq;
    int64_t base_ns;         /* monotonic time at which the count was base_value */
    uint32_t base_value;
    uint32_t mr, lr, imsc, ris;
    bool armed;              /* a match is due at match_ns */
    int64_t match_ns;
};

static int64_t now_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

static uint32_t count(struct pl031 *r, int64_t now)
{
    return r->base_value + (uint32_t)((now - r->base_ns) / NSEC);
}

/* When the count next equals RTCMR (at once if it does now). */
static void arm_match(struct pl031 *r, int64_t now)
{
    int64_t elapsed = (now - r->base_ns) / NSEC;
    uint32_t ticks = r->mr - count(r, now);

    r->armed = true;
    r->match_ns = r->base_ns + (elapsed + ticks) * NSEC;
}

static void update(struct pl031 *r, int64_t now)
{
    if (r->armed && now >= r->match_ns) {
        r->ris |= INT_MATCH;
        r->armed = false;
    }
    if (r->has_irq)
        irq_line_set(&r->irq, r->ris & r->imsc);
}

static void load(struct pl031 *r, uint32_t value, int64_t now)
{
    r->base_value = value;
    r->base_ns = now;
    arm_match(r, now);
}

static uint32_t reg_read(struct pl031 *r, uint64_t reg, int64_t now)
{
    switch (reg) {
    case RTCDR: return count(r, now);
    case RTCMR: return r->mr;
    case RTCLR: return r->lr;
    case RTCCR: return 1; /* started, and it cannot be stopped */
    case RTCIMSC: return r->imsc;
    case RTCRIS: return r->ris;
    case RTCMIS: return r->ris & r->imsc;
    }
    if (reg >= RTCPID0 && reg < RTCPID0 + sizeof(pl031_id) * 4)
        return pl031_id[(reg - RTCPID0) / 4];
    return 0;
}

/* @v: the whole register's new value (a narrow write merged into it). */
static void reg_write(struct pl031 *r, uint64_t reg, uint32_t v, int64_t now)
{
    switch (reg) {
    case RTCMR:
        r->mr = v;
        arm_match(r, now);
        break;
    case RTCLR:
        r->lr = v;
        load(r, v, now);
        break;
    case RTCIMSC:
        r->imsc = v & INT_MATCH;
        break;
    case RTCICR:
        r->ris &= ~(v & INT_MATCH);
        break;
    default:
        break; /* RTCDR, RTCCR (always started), the status and ID registers */
    }
}

/* 1-, 2- and 4-byte accesses inside a 32-bit register, as kvm-unit-tests
 * makes them (its read-only checks use all three). */
static void pl031_mmio(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                       unsigned len, bool is_write)
{
    struct pl031 *r = opaque;
    uint64_t reg = offset & ~3ULL;
    unsigned shift = (offset & 3) * 8;
    uint32_t mask = len >= 4 ? 0xffffffffu : (1u << (len * 8)) - 1;
    int64_t now = now_ns();
    uint32_t v = 0, cur;

    if (len > 4 || (offset & 3) + len > 4) {
        if (!is_write)
            memset(data, 0, len);
        return;
    }
    g_mutex_lock(&r->lock);
    update(r, now);
    cur = reg_read(r, reg, now);
    if (is_write) {
        memcpy(&v, data, len);
        if (reg == RTCICR)
            cur = 0; /* write-one-to-clear: only the bits written count */
        cur = (cur & ~(mask << shift)) | ((v & mask) << shift);
        reg_write(r, reg, cur, now);
        update(r, now);
    } else {
        v = cur >> shift;
        memcpy(data, &v, len);
    }
    g_mutex_unlock(&r->lock);
}

static void power_on(struct pl031 *r)
{
    int64_t now = now_ns(), wall = g_get_real_time() * 1000;

    r->mr = r->lr = r->imsc = r->ris = 0;
    /* The count ticks where the wall clock's seconds do. */
    r->base_value = (uint32_t)(wall / NSEC);
    r->base_ns = now - wall % NSEC;
    r->armed = false;
}

static bool pl031_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct pl031 *r = g_new0(struct pl031, 1);

    g_mutex_init(&r->lock);
    r->has_irq = ctx->irq_wired;
    if (r->has_irq)
        r->irq = ctx->irq;
    power_on(r);
    dev->state = r;
    return iobus_register(ctx->iobus, IOBUS_MMIO, dev->desc->base, dev->desc->size,
                          pl031_mmio, r, "pl031", error);
}

static void pl031_reset(struct device *dev)
{
    struct pl031 *r = dev->state;

    g_mutex_lock(&r->lock);
    power_on(r);
    update(r, now_ns());
    g_mutex_unlock(&r->lock);
}

static void pl031_destroy(struct device *dev)
{
    struct pl031 *r = dev->state;

    g_mutex_clear(&r->lock);
    g_free(r);
}

/* The node Linux's rtc-pl031 and kvm-unit-tests' arm/pl031 look for. */
static int pl031_fdt(const struct device *dev, struct device_fdt *f)
{
    static const char compat[] = "arm,pl031\0arm,primecell";
    int err = 0;
    uint32_t clk = cpu_to_fdt32(device_fdt_apb_pclk(f, &err));

    err |= device_fdt_begin(f, dev, compat, sizeof(compat));
    err |= fdt_property(f->fdt, "clocks", &clk, sizeof(clk));
    err |= fdt_property_string(f->fdt, "clock-names", "apb_pclk");
    return err | fdt_end_node(f->fdt);
}

const struct device_ops pl031_device = {
    .name = "pl031",
    .dt_name = "pl031",
    .realize = pl031_realize,
    .reset = pl031_reset,
    .destroy = pl031_destroy,
    .fdt = pl031_fdt,
};
