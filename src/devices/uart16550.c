/*
 * 16550A: polled output for firmware and early consoles, and, once
 * connected to an interrupt line, what Linux's 8250 driver expects:
 * a THR-empty interrupt (raised again after every transmitted byte, since
 * the ISA line is edge-triggered and each byte "transmits" at once), a
 * received-data interrupt, and a 16-byte receive FIFO fed by stdin
 * (always, as the hardware receives: LSR.DR serves a polling guest).
 * The line is gated by MCR OUT2, as on a PC.
 */
#include "vmm/console.h"
#include "vmm/hw/aml.h"
#include "vmm/hw/uart16550.h"
#include "vmm/hw/uart_rx.h"
#include "vmm/iobus.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR, NR_PORTS };

#define IER_RDI   0x01
#define IER_THRI  0x02
#define LCR_DLAB  0x80
#define LSR_DR    0x01
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
#define IIR_NO_INT 0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define RX_FIFO   16

struct uart16550 {
    struct uart_rx rx;         /* first: the console's input is this */
    uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
    bool thr_pending;          /* THR-empty interrupt not yet acknowledged */
};

static unsigned iir(struct uart16550 *u)
{
    if ((u->ier & IER_RDI) && u->rx.count)
        return IIR_RDI;
    if ((u->ier & IER_THRI) && u->thr_pending)
        return IIR_THRI;
    return IIR_NO_INT;
}

/* The line is gated by OUT2. */
static bool irq_level(struct uart_rx *rx)
{
    struct uart16550 *u = (struct uart16550 *)rx;

    return iir(u) != IIR_NO_INT && (u->mcr & MCR_OUT2);
}

static void update_irq(struct uart16550 *u)
{
    uart_rx_update_irq(&u->rx);
}

static uint8_t msr(struct uart16550 *u)
{
    if (!(u->mcr & MCR_LOOP))
        return MSR_DCD | MSR_DSR | MSR_CTS;
    /* Loopback: the modem outputs come back as inputs. */
    return ((u->mcr & MCR_DTR) ? MSR_DSR : 0) | ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
           ((u->mcr & MCR_OUT1) ? MSR_RI : 0) | ((u->mcr & MCR_OUT2) ? MSR_DCD : 0);
}

static uint8_t uart_read(struct uart16550 *u, unsigned reg)
{
    uint8_t v;

    switch (reg) {
    case RBR_THR:
        if (u->lcr & LCR_DLAB)
            return u->dll;
        return uart_rx_pop(&u->rx);
    case IER: return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case IIR_FCR:
        v = iir(u);
        /* Reading IIR acknowledges a THR-empty interrupt it reports. */
        if (v == IIR_THRI) {
            u->thr_pending = false;
            update_irq(u);
        }
        return v | ((u->fcr & 1) ? IIR_FIFO : 0);
    case LCR: return u->lcr;
    case MCR: return u->mcr;
    case LSR: return LSR_THRE | LSR_TEMT | (u->rx.count ? LSR_DR : 0);
    case MSR: return msr(u);
    default: return u->scr;
    }
}

static void uart_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
    switch (reg) {
    case RBR_THR:
        if (u->lcr & LCR_DLAB) {
            u->dll = v;
            break;
        }
        if (!(u->mcr & MCR_LOOP))
            console_write(u->rx.console, &v, 1);
        /* The THR fills and empties again: a new edge for the driver. */
        u->thr_pending = false;
        update_irq(u);
        u->thr_pending = true;
        break;
    case IER:
        if (u->lcr & LCR_DLAB) {
            u->dlm = v;
            break;
        }
        /* Enabling the THR-empty interrupt with THR empty raises it. */
        if ((v & IER_THRI) && !(u->ier & IER_THRI))
            u->thr_pending = true;
        u->ier = v & 0x0f;
        break;
    case IIR_FCR:
        u->fcr = v;
        if (v & 0x02) /* clear the receive FIFO */
            uart_rx_clear(&u->rx);
        break;
    case LCR: u->lcr = v; break;
    case MCR: u->mcr = v & 0x1f; break;
    case SCR: u->scr = v; break;
    default: break; /* LSR and MSR are read-only */
    }
    update_irq(u);
}

static void uart_io(struct vcpu *vcpu, void *opaque, uint64_t offset, uint8_t *data,
                    unsigned len, bool is_write)
{
    struct uart16550 *u = opaque;

    /* Byte registers: a wider access touches consecutive registers. */
    g_mutex_lock(&u->rx.lock);
    for (unsigned i = 0; i < len; i++) {
        unsigned reg = (offset + i) % NR_PORTS;

        if (is_write)
            uart_write(u, reg, data[i]);
        else
            data[i] = uart_read(u, reg);
    }
    g_mutex_unlock(&u->rx.lock);
}

static bool uart_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    struct uart16550 *u = g_new0(struct uart16550, 1);

    /* A 16550 has no receiver switch: it always receives (LSR.DR tells a
     * polling guest, IER and OUT2 only gate the interrupt). */
    uart_rx_init(&u->rx, RX_FIFO, ctx, NULL, irq_level);
    dev->state = u;
    return iobus_register(ctx->iobus, IOBUS_PIO, dev->desc->base, NR_PORTS, uart_io, u,
                          "uart16550", error);
}

static void uart_reset(struct device *dev)
{
    struct uart16550 *u = dev->state;

    g_mutex_lock(&u->rx.lock);
    u->ier = u->fcr = u->lcr = u->mcr = u->scr = u->dll = u->dlm = 0;
    u->thr_pending = false;
    uart_rx_clear(&u->rx);
    update_irq(u);
    g_mutex_unlock(&u->rx.lock);
}

/* Once no vCPU runs: stdin must not reach it any more. */
static void uart_destroy(struct device *dev)
{
    struct uart16550 *u = dev->state;

    uart_rx_destroy(&u->rx);
    g_free(u);
}

/*
 * Device (COM1) { Name (_HID, EisaId ("PNP0501"))
 *     Name (_CRS, ResourceTemplate () { IO (Decode16, base, base, 1, 8) IRQNoFlags () { irq } }) }
 * A hardware-reduced machine has no legacy PIC, so Linux maps no ISA IRQ
 * on its own: the UART's interrupt must come from its ACPI description.
 */
static void uart_acpi(const struct device *dev, struct device_acpi *a)
{
    static const uint8_t hid[] = { 0x41, 0xd0, 0x05, 0x01 }; /* EisaId ("PNP0501") */

    aml_isa_device(a->sb, "COM1", hid, dev->desc->base, NR_PORTS, dev->desc->irq);
}

const struct device_ops uart16550_device = {
    .name = "uart16550",
    .realize = uart_realize,
    .reset = uart_reset,
    .destroy = uart_destroy,
    .acpi = uart_acpi,
};
