/*
 * The PC's CMOS real-time clock, an MC146818: an index port and a data
 * port in front of 128 bytes, of which 0-9 are the date and the alarm,
 * 10-13 the control registers A-D, 0x32 the century and the rest RAM.
 *
 * The date starts at the host's wall-clock time (UTC) and advances with
 * the host's monotonic clock (as the PL031's count does); a write of a
 * date register moves it. Its second boundaries are the host's, so
 * "update in progress" (register A's UIP) is set for the last 2 ms of
 * every second, where a guest that waits for an update (kvm-unit-tests'
 * s3) can see it even when its reads are slow exits.
 *
 * There is no host timer: the updates since the last access are
 * evaluated at each access (the update-ended and alarm flags in register
 * C, and the interrupt line, which follows C's IRQF), so a guest that
 * waits for the alarm interrupt without touching the RTC gets it at its
 * next access (docs/devices.md). An S3 sleep asks mc146818_next_alarm()
 * when to wake. The periodic interrupt is not emulated (PF never sets).
 */
#include <string.h>

#include "vmm/hw/aml.h"
#include "vmm/hw/mc146818.h"
#include "vmm/iobus.h"

#define REG_SECONDS      0x00
#define REG_SECONDS_ALARM 0x01
#define REG_MINUTES      0x02
#define REG_MINUTES_ALARM 0x03
#define REG_HOURS        0x04
#define REG_HOURS_ALARM  0x05
#define REG_WEEKDAY      0x06
#define REG_DAY          0x07
#define REG_MONTH        0x08
#define REG_YEAR         0x09
#define REG_A            0x0a
#define REG_B            0x0b
#define REG_C            0x0c
#define REG_D            0x0d
#define REG_CENTURY      0x32  /* where the FADT's CENTURY field would point */
#define NR_REGS          128

#define A_UIP            0x80
#define B_24H            0x02
#define B_BINARY         0x04
#define B_UIE            0x10
#define B_AIE            0x20
#define B_PIE            0x40
#define C_UF             0x10
#define C_AF             0x20
#define C_IRQF           0x80
#define D_VRT            0x80  /* the battery is good */
#define ALARM_ANY        0xc0  /* an alarm byte of 11xxxxxx matches every value */
#define HOUR_PM          0x80  /* 12-hour mode */

#define NSEC             1000000000LL
#define UIP_NS           2000000LL
#define DAY              86400

struct mc146818 {
    struct irq_line irq;
    GMutex lock;
    bool has_irq;
    int64_t base_ns;     /* monotonic time at which the date was base_secs, on a boundary */
    int64_t base_secs;   /* seconds since the epoch (UTC) */
    int64_t checked;     /* the last second whose update has been evaluated */
    uint8_t index;
    uint8_t regs[NR_REGS];
};

static int64_t now_ns(void)
{
    return g_get_monotonic_time() * 1000;
}

static int64_t secs_at(const struct mc146818 *r, int64_t now)
{
    return r->base_secs + (now - r->base_ns) / NSEC;
}

static uint8_t encode(const struct mc146818 *r, unsigned v)
{
    return r->regs[REG_B] & B_BINARY ? v : (v / 10) << 4 | v % 10;
}

/* -1 for a BCD byte with a digit over 9 */
static int decode(const struct mc146818 *r, uint8_t v)
{
    if (r->regs[REG_B] & B_BINARY)
        return v;
    if ((v >> 4) > 9 || (v & 0xf) > 9)
        return -1;
    return (v >> 4) * 10 + (v & 0xf);
}

static uint8_t encode_hour(const struct mc146818 *r, unsigned h)
{
    if (r->regs[REG_B] & B_24H)
        return encode(r, h);
    return encode(r, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0);
}

static int decode_hour(const struct mc146818 *r, uint8_t v)
{
    int h;

    if (r->regs[REG_B] & B_24H)
        return decode(r, v);
    h = decode(r, v & ~HOUR_PM);
    if (h < 1 || h > 12)
        return -1;
    return h % 12 + (v & HOUR_PM ? 12 : 0);
}

static bool alarm_field(const struct mc146818 *r, unsigned reg, int value, bool hour)
{
    uint8_t v = r->regs[reg];

    if ((v & ALARM_ANY) == ALARM_ANY)
        return true;
    return (hour ? decode_hour(r, v) : decode(r, v)) == value;
}

static bool alarm_matches(const struct mc146818 *r, int64_t s)
{
    int64_t tod = ((s % DAY) + DAY) % DAY;

    return alarm_field(r, REG_SECONDS_ALARM, tod % 60, false) &&
           alarm_field(r, REG_MINUTES_ALARM, tod / 60 % 60, false) &&
           alarm_field(r, REG_HOURS_ALARM, (int)(tod / 3600), true);
}

/* The updates since the last look: register C's flags and the line. */
static void update(struct mc146818 *r, int64_t now)
{
    int64_t cur = secs_at(r, now), s;
    uint8_t *c = &r->regs[REG_C];

    if (cur > r->checked) {
        *c |= C_UF;
        /* a day holds every time of day: older seconds add nothing */
        for (s = cur - r->checked > DAY ? cur - DAY + 1 : r->checked + 1; s <= cur; s++) {
            if (alarm_matches(r, s)) {
                *c |= C_AF;
                break;
            }
        }
        r->checked = cur;
    }
    if (*c & r->regs[REG_B] & (B_UIE | B_AIE | B_PIE))
        *c |= C_IRQF;
    if (r->has_irq)
        irq_line_set(&r->irq, *c & C_IRQF);
}

/* A UTC date and time. The calendar is computed here, not by gmtime_r()
 * and timegm(): glibc's read the time zone files on first use, which a
 * vCPU thread's seccomp filter forbids (and a UTC clock does not need). */
struct date {
    int64_t year;
    int month, day, hour, minute, second, weekday; /* month 1-12, day 1-31, weekday 0: Sunday */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b < 0);
}

/* Days since 1970-01-01 of a proleptic Gregorian date: years counted from
 * March, so that the leap day ends a year. */
static int64_t days_from_date(int64_t y, int m, int d)
{
    int64_t era, yoe, doy;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static void date_of(int64_t secs, struct date *t)
{
    int64_t days = floor_div(secs, DAY), tod = secs - days * DAY;
    int64_t z = days + 719468, era = floor_div(z, 146097), doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;

    t->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->month = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->year = yoe + era * 400 + (t->month <= 2);
    t->hour = (int)(tod / 3600);
    t->minute = (int)(tod / 60 % 60);
    t->second = (int)(tod % 60);
    t->weekday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
}

static int64_t secs_of(const struct date *t)
{
    return days_from_date(t->year, t->month, t->day) * DAY + t->hour * 3600 + t->minute * 60 +
           t->second;
}

static uint8_t date_read(const struct mc146818 *r, unsigned reg, int64_t now)
{
    struct date t;

    date_of(secs_at(r, now), &t);
    switch (reg) {
    case REG_SECONDS: return encode(r, t.second);
    case REG_MINUTES: return encode(r, t.minute);
    case REG_HOURS: return encode_hour(r, t.hour);
    case REG_WEEKDAY: return encode(r, t.weekday + 1);
    case REG_DAY: return encode(r, t.day);
    case REG_MONTH: return encode(r, t.month);
    case REG_YEAR: return encode(r, (unsigned)(t.year % 100 + 100) % 100);
    default: return encode(r, (unsigned)(floor_div(t.year, 100) % 100 + 100) % 100); /* REG_CENTURY */
    }
}

/* A write of one date field: the clock moves by the difference, keeping
 * its phase. A value out of the field's range is ignored, as is the
 * weekday (it follows from the date). */
static void date_write(struct mc146818 *r, unsigned reg, uint8_t v, int64_t now)
{
    int64_t cur = secs_at(r, now), moved;
    int x = reg == REG_HOURS ? decode_hour(r, v) : decode(r, v);
    struct date t;

    if (x < 0)
        return;
    date_of(cur, &t);
    switch (reg) {
    case REG_SECONDS: if (x > 59) return; t.second = x; break;
    case REG_MINUTES: if (x > 59) return; t.minute = x; break;
    case REG_HOURS: if (x > 23) return; t.hour = x; break;
    case REG_DAY: if (x < 1 || x > 31) return; t.day = x; break;    /* day 31 of a short */
    case REG_MONTH: if (x < 1 || x > 12) return; t.month = x; break; /* month runs on */
    case REG_YEAR: if (x > 99) return; t.year = floor_div(t.year, 100) * 100 + x; break;
    case REG_CENTURY: if (x < 19 || x > 99) return; t.year = x * 100 + t.year % 100; break;
    default: return;
    }
    moved = secs_of(&t) - cur;
    r->base_secs += moved;
    r->checked += moved; /* a set date is not an update */
}

static bool is_date(unsigned reg)
{
    return reg == REG_SECONDS || reg == REG_MINUTES || reg == REG_HOURS || reg == REG_WEEKDAY ||
           reg == REG_DAY || reg == REG_MONTH || reg == REG_YEAR || reg == REG_CENTURY;
}

static uint8_t reg_read(struct mc146818 *r, unsigned reg, int64_t now)
{
    uint8_t v;

    if (is_date(reg))
        return date_read(r, reg, now);
    switch (reg) {
    case REG_A:
        return (r->regs[REG_A] & ~A_UIP) |
               ((now - r->base_ns) % NSEC >= NSEC - UIP_NS ? A_UIP : 0);
    case REG_C:
        v = r->regs[REG_C];
        r->regs[REG_C] = 0; /* reading C acknowledges */
        if (r->has_irq)
            irq_line_set(&r->irq, false);
        return v;
    case REG_D:
        return D_VRT;
    default:
        return r->regs[reg];
    }
}

static void reg_write(struct mc146818 *r, unsigned reg, uint8_t v, int64_t now)
{
    if (is_date(reg)) {
        date_write(r, reg, v, now);
        return;
    }
    switch (reg) {
    case REG_A:
        r->regs[REG_A] = v & ~A_UIP;
        break;
    case REG_C:
    case REG_D:
        break; /* read-only */
    default:
        r->regs[reg] = v; /* B, the alarms, CMOS RAM */
        break;
    }
}

static void rtc_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                   unsigned len, bool is_write)
{
    struct mc146818 *r = opaque;
    int64_t now = now_ns();

    (void)vcpu;
    g_mutex_lock(&r->lock);
    /* a wider access is one byte per port, as the two ports decode */
    for (unsigned i = 0; i < len; i++, offset++) {
        if (offset == 0) {
            if (is_write)
                r->index = data[i] & (NR_REGS - 1); /* bit 7 masks NMIs: none here */
            else
                data[i] = 0xff; /* the index register is write-only */
        } else if (offset == 1) {
            update(r, now);
            if (is_write)
                reg_write(r, r->index, data[i], now);
            else
                data[i] = reg_read(r, r->index, now);
            update(r, now);
        } else if (!is_write) {
            data[i] = 0xff;
        }
    }
    g_mutex_unlock(&r->lock);
}

bool mc146818_next_alarm(struct mc146818 *r, int64_t now_us, int64_t *at_us)
{
    bool found = false;

    g_mutex_lock(&r->lock);
    if (r->regs[REG_B] & B_AIE) {
        int64_t cur = secs_at(r, now_us * 1000);

        for (int64_t s = cur + 1; s <= cur + DAY; s++) {
            if (alarm_matches(r, s)) {
                *at_us = (r->base_ns + (s - r->base_secs) * NSEC) / 1000;
                found = true;
                break;
            }
        }
    }
    g_mutex_unlock(&r->lock);
    return found;
}

static void power_on(struct mc146818 *r)
{
    int64_t now = now_ns(), wall = g_get_real_time() * 1000;

    memset(r->regs, 0, sizeof(r->regs));
    r->regs[REG_A] = 0x26; /* 32.768 kHz time base, 1024 Hz rate */
    r->regs[REG_B] = B_24H;
    r->index = 0;
    /* The seconds tick where the wall clock's do. */
    r->base_secs = wall / NSEC;
    r->base_ns = now - wall % NSEC;
    r->checked = r->base_secs;
}

static bool rtc_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct mc146818 *r = g_new0(struct mc146818, 1);

    g_mutex_init(&r->lock);
    r->has_irq = ctx->irq_wired;
    if (r->has_irq)
        r->irq = ctx->irq;
    power_on(r);
    dev->state = r;
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, dev->desc->size, rtc_io, r,
                          "mc146818", error);
}

static void rtc_reset(struct device *dev)
{
    struct mc146818 *r = dev->state;

    g_mutex_lock(&r->lock);
    power_on(r);
    update(r, now_ns());
    g_mutex_unlock(&r->lock);
}

static void rtc_destroy(struct device *dev)
{
    struct mc146818 *r = dev->state;

    g_mutex_clear(&r->lock);
    g_free(r);
}

/* Device (RTC) { _HID PNP0B00, _CRS: its two ports and IRQ 8 }. */
static void rtc_acpi(const struct device *dev, struct device_acpi *a)
{
    static const uint8_t hid[] = { 0x41, 0xd0, 0x0b, 0x00 }; /* EisaId ("PNP0B00") */

    aml_isa_device(a->sb, "RTC_", hid, dev->desc->base, 2, dev->desc->irq);
    a->cmos_rtc = true;
}

const struct device_ops mc146818_device = {
    .name = "mc146818",
    .realize = rtc_realize,
    .reset = rtc_reset,
    .destroy = rtc_destroy,
    .acpi = rtc_acpi,
};
