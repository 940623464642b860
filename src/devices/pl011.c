/*
 * PL011: polled output, the identification registers Linux's AMBA bus
 * reads before it binds a driver, and, once connected to a GIC SPI, the
 * interrupts Linux's amba-pl011 driver runs on. Output is instant, so the
 * transmit FIFO is always empty and its interrupt is raw-pending whenever
 * the driver unmasks it (a level interrupt, as the device tree says).
 * Received bytes (stdin) raise the receive and receive-timeout interrupts
 * until the driver drains them.
 *
 * The UART comes out of reset as a boot firmware leaves a console UART
 * (vmm is the firmware of a kernel it boots): enabled, transmitting and
 * receiving at 115200 baud. It receives while CR's
 * UARTEN and RXE are set, whether or not the receive interrupt is
 * unmasked, so a guest that polls FR and DR (kvm-unit-tests, which never
 * writes CR) reads what is typed. Linux's driver clears RXE when its tty
 * closes: input then waits on the host side.
 */
#include <libfdt.h>
#include <string.h>

#include "vmm/console.h"
#include "vmm/hw/dt.h"
#include "vmm/hw/pl011.h"
#include "vmm/hw/uart_rx.h"
#include "vmm/iobus.h"

#define UARTDR    0x000
#define UARTFR    0x018
#define UARTIBRD  0x024
#define UARTFBRD  0x028
#define UARTCR    0x030
#define UARTIMSC  0x038
#define UARTRIS   0x03c
#define UARTMIS   0x040
#define UARTICR   0x044
#define UARTPID0  0xfe0
#define FR_RXFE   0x10
#define FR_TXFE   0x80
#define CR_UARTEN 0x001
#define CR_TXE    0x100
#define CR_RXE    0x200
#define INT_RX    0x10
#define INT_TX    0x20
#define INT_RT    0x40
#define NR_REGS   (0x50 / 4)
#define RX_FIFO   32
#define UARTCLK   24000000 /* the fixed clock the device tree gives it (apb-pclk) */

/* PrimeCell peripheral and cell ID bytes of an r1p5 PL011. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

struct pl011 {
    struct uart_rx rx;      /* first: the console's input is this */
    uint32_t regs[NR_REGS]; /* the plain read/write ones: IBRD, LCR_H, CR, IMSC, ... */
};

static uint32_t raw_status(struct pl011 *p)
{
    return INT_TX | (p->rx.count ? INT_RX | INT_RT : 0);
}

static bool irq_level(struct uart_rx *rx)
{
    struct pl011 *p = (struct pl011 *)rx;

    return raw_status(p) & p->regs[UARTIMSC / 4];
}

static bool receiving(struct uart_rx *rx)
{
    struct pl011 *p = (struct pl011 *)rx;
    uint32_t on = CR_UARTEN | CR_RXE;

    return (p->regs[UARTCR / 4] & on) == on;
}

/* What a boot firmware leaves: the UART on at 115200 baud from UARTCLK
 * (divisor 13 + 1/64). Linux's console reads the rate back from IBRD/FBRD
 * when UARTEN is set, so they must not be 0. */
static void firmware_state(struct pl011 *p)
{
    memset(p->regs, 0, sizeof(p->regs));
    p->regs[UARTIBRD / 4] = UARTCLK / (16 * 115200);
    p->regs[UARTFBRD / 4] = 1;
    p->regs[UARTCR / 4] = CR_UARTEN | CR_TXE | CR_RXE;
}

static uint32_t pl011_read(struct pl011 *p, uint64_t off)
{
    switch (off) {
    case UARTDR: return uart_rx_pop(&p->rx);
    case UARTFR: return FR_TXFE | (p->rx.count ? 0 : FR_RXFE);
    case UARTRIS: return raw_status(p);
    case UARTMIS: return raw_status(p) & p->regs[UARTIMSC / 4];
    }
    if (off >= UARTPID0 && off < UARTPID0 + sizeof(pl011_id) * 4)
        return pl011_id[(off - UARTPID0) / 4];
    if (off / 4 < NR_REGS)
        return p->regs[off / 4];
    return 0;
}

static void pl011_write(struct pl011 *p, uint64_t off, uint32_t v)
{
    if (off == UARTDR) {
        uint8_t c = v;

        console_write(p->rx.console, &c, 1);
    } else if (off != UARTFR && off != UARTICR && off != UARTRIS && off != UARTMIS &&
               off / 4 < NR_REGS) {
        /* ICR has nothing to clear: every raw status follows the FIFOs. */
        p->regs[off / 4] = v;
    }
    uart_rx_update_irq(&p->rx);
}

static void pl011_mmio(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                       unsigned len, bool is_write)
{
    struct pl011 *p = opaque;
    uint32_t v = 0;

    if (len > 4 || (offset & 3)) {
        if (!is_write)
            memset(data, 0, len);
        return;
    }
    g_mutex_lock(&p->rx.lock);
    if (is_write) {
        memcpy(&v, data, len);
        pl011_write(p, offset, v);
    } else {
        v = pl011_read(p, offset);
        memcpy(data, &v, len);
    }
    g_mutex_unlock(&p->rx.lock);
}

static bool pl011_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct pl011 *p = g_new0(struct pl011, 1);

    firmware_state(p);
    uart_rx_init(&p->rx, RX_FIFO, ctx, receiving, irq_level);
    dev->state = p;
    return iobus_register(ctx->iobus, IOBUS_MMIO, dev->desc->base, dev->desc->size,
                          pl011_mmio, p, "pl011", error);
}

static void pl011_reset(struct device *dev)
{
    struct pl011 *p = dev->state;

    g_mutex_lock(&p->rx.lock);
    firmware_state(p);
    uart_rx_clear(&p->rx);
    uart_rx_update_irq(&p->rx);
    g_mutex_unlock(&p->rx.lock);
}

/* Once no vCPU runs: stdin must not reach it any more. */
static void pl011_destroy(struct device *dev)
{
    struct pl011 *p = dev->state;

    uart_rx_destroy(&p->rx);
    g_free(p);
}

/* Its clock (the AMBA bus wants one; the same fixed clock is its UARTCLK),
 * then the UART. */
static int pl011_fdt(const struct device *dev, struct device_fdt *f)
{
    static const char compat[] = "arm,pl011\0arm,primecell";
    static const char clock_names[] = "uartclk\0apb_pclk";
    int err = 0;
    uint32_t clk = device_fdt_apb_pclk(f, &err);
    uint32_t clocks[] = { cpu_to_fdt32(clk), cpu_to_fdt32(clk) };

    G_STATIC_ASSERT(UARTCLK == 24000000);
    err |= device_fdt_begin(f, dev, compat, sizeof(compat));
    err |= fdt_property(f->fdt, "clocks", clocks, sizeof(clocks));
    err |= fdt_property(f->fdt, "clock-names", clock_names, sizeof(clock_names));
    return err | fdt_end_node(f->fdt);
}

const struct device_ops pl011_device = {
    .name = "pl011",
    .dt_name = "pl011",
    .realize = pl011_realize,
    .reset = pl011_reset,
    .destroy = pl011_destroy,
    .fdt = pl011_fdt,
};
