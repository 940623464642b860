/*
 * 16550A: polled output for firmware and early consoles, and, once
 * connected to an interrupt line, what Linux's 8250 driver expects:
 * a THR-empty interrupt (raised again after every transmitted byte, since
 * the ISA line is edge-triggered and each byte "transmits" at once), a
 * received-data interrupt, and a 16-byte receive FIFO fed by stdin.
 * The line is gated by MCR OUT2, as on a PC.
 */
#include "vmm/console-input.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/hw/uart16550.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

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
    GMutex lock;
    struct console *console;
    uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
    bool thr_pending;          /* THR-empty interrupt not yet acknowledged */
    uint8_t rx[RX_FIFO];
    unsigned rx_head, rx_count;
    struct irq_line irq;
    bool has_irq;
};

static unsigned iir(struct uart16550 *u)
{
    if ((u->ier & IER_RDI) && u->rx_count)
        return IIR_RDI;
    if ((u->ier & IER_THRI) && u->thr_pending)
        return IIR_THRI;
    return IIR_NO_INT;
}

static void update_irq(struct uart16550 *u)
{
    if (u->has_irq)
        irq_line_set(&u->irq, iir(u) != IIR_NO_INT && (u->mcr & MCR_OUT2));
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
        if (!u->rx_count)
            return 0;
        v = u->rx[u->rx_head];
        u->rx_head = (u->rx_head + 1) % RX_FIFO;
        u->rx_count--;
        update_irq(u);
        return v;
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
    case LSR: return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
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
            console_write(u->console, &v, 1);
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
            u->rx_count = 0;
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
    g_mutex_lock(&u->lock);
    for (unsigned i = 0; i < len; i++) {
        unsigned reg = (offset + i) % NR_PORTS;

        if (is_write)
            uart_write(u, reg, data[i]);
        else
            data[i] = uart_read(u, reg);
    }
    g_mutex_unlock(&u->lock);
}

static size_t uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart16550 *u = opaque;
    size_t n = 0;

    g_mutex_lock(&u->lock);
    /* Input waits until a driver listens (receive interrupt on, OUT2 up):
     * a driver's start-up flushes the FIFO and would eat it. */
    while (u->has_irq && (u->ier & IER_RDI) && (u->mcr & MCR_OUT2) && n < len &&
           u->rx_count < RX_FIFO) {
        u->rx[(u->rx_head + u->rx_count) % RX_FIFO] = buf[n++];
        u->rx_count++;
    }
    update_irq(u);
    g_mutex_unlock(&u->lock);
    return n;
}

/* From the VM's I/O registry, once no vCPU runs: stdin must not reach
 * it any more. */
static void uart_free(void *opaque)
{
    struct uart16550 *u = opaque;

    console_input_detach(u->console, u);
    g_mutex_clear(&u->lock);
    g_free(u);
}

bool uart16550_register(struct vm *vm, uint16_t port, GError **error)
{
    struct uart16550 *u = g_new0(struct uart16550, 1);

    g_mutex_init(&u->lock);
    u->console = vm->console;
    /* Owned by the registry from here, whether the ports register or not. */
    iobus_add_cleanup(&vm->iobus, uart_free, u);
    if (!iobus_register(&vm->iobus, IOBUS_PIO, port, NR_PORTS, uart_io, u, "uart16550",
                        error))
        return false;
    console_set_input(vm->console, uart_receive, u);
    return true;
}

bool uart16550_connect_irq(struct vm *vm, uint16_t port, uint32_t gsi, GError **error)
{
    const struct io_range *r = iobus_find(&vm->iobus, IOBUS_PIO, port);
    struct uart16550 *u;

    if (!r || r->handler != uart_io) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "no 16550 UART at port %#x", port);
        return false;
    }
    u = r->opaque;
    g_mutex_lock(&u->lock);
    irq_line_init(&u->irq, vm, gsi);
    u->has_irq = true;
    g_mutex_unlock(&u->lock);
    return true;
}
