/*
 * 16550A: enough for polled output (firmware, early consoles) and for a
 * driver probing the chip. Interrupts and input come with Linux boot.
 */
#include "vmm/console.h"
#include "vmm/hw/uart16550.h"
#include "vmm/vm.h"

enum { RBR_THR, IER, IIR_FCR, LCR, MCR, LSR, MSR, SCR, NR_PORTS };

#define LCR_DLAB  0x80
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_DCD   0x80
#define IIR_NO_INT 0x01
#define IIR_FIFO  0xc0
#define MCR_LOOP  0x10

struct uart16550 {
    GMutex lock;
    struct console *console;
    uint8_t ier, fcr, lcr, mcr, scr, dll, dlm;
};

static uint8_t uart_read(struct uart16550 *u, unsigned reg)
{
    switch (reg) {
    case RBR_THR: return (u->lcr & LCR_DLAB) ? u->dll : 0;
    case IER: return (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
    case IIR_FCR: return IIR_NO_INT | ((u->fcr & 1) ? IIR_FIFO : 0);
    case LCR: return u->lcr;
    case MCR: return u->mcr;
    case LSR: return LSR_THRE | LSR_TEMT; /* transmits instantly */
    case MSR: return (u->mcr & MCR_LOOP) ? 0 : (MSR_DCD | MSR_DSR | MSR_CTS);
    default: return u->scr;
    }
}

static void uart_write(struct uart16550 *u, unsigned reg, uint8_t v)
{
    switch (reg) {
    case RBR_THR:
        if (u->lcr & LCR_DLAB)
            u->dll = v;
        else if (!(u->mcr & MCR_LOOP))
            console_write(u->console, &v, 1);
        break;
    case IER:
        if (u->lcr & LCR_DLAB)
            u->dlm = v;
        else
            u->ier = v & 0x0f;
        break;
    case IIR_FCR: u->fcr = v; break;
    case LCR: u->lcr = v; break;
    case MCR: u->mcr = v & 0x1f; break;
    case SCR: u->scr = v; break;
    default: break; /* LSR and MSR are read-only */
    }
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

bool uart16550_register(struct vm *vm, uint16_t port, GError **error)
{
    /* Lives as long as the process: devices are never unplugged. */
    struct uart16550 *u = g_new0(struct uart16550, 1);

    g_mutex_init(&u->lock);
    u->console = vm->console;
    return iobus_register(&vm->iobus, IOBUS_PIO, port, NR_PORTS, uart_io, u,
                          "uart16550", error);
}
