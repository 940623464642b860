/*
 * PL011: polled output, the identification registers Linux's AMBA bus
 * reads before it binds a driver, and, once connected to a GIC SPI, the
 * interrupts Linux's amba-pl011 driver runs on. Output is instant, so the
 * transmit FIFO is always empty and its interrupt is raw-pending whenever
 * the driver unmasks it (a level interrupt, as the device tree says).
 * Received bytes (stdin) raise the receive and receive-timeout interrupts
 * until the driver drains them.
 */
#include <string.h>

#include "vmm/console-input.h"
#include "vmm/console.h"
#include "vmm/error.h"
#include "vmm/hw/pl011.h"
#include "vmm/irq.h"
#include "vmm/vm.h"

#define UARTDR    0x000
#define UARTFR    0x018
#define UARTIMSC  0x038
#define UARTRIS   0x03c
#define UARTMIS   0x040
#define UARTICR   0x044
#define UARTPID0  0xfe0
#define FR_RXFE   0x10
#define FR_TXFE   0x80
#define INT_RX    0x10
#define INT_TX    0x20
#define INT_RT    0x40
#define NR_REGS   (0x50 / 4)
#define RX_FIFO   32

/* PrimeCell peripheral and cell ID bytes of an r1p5 PL011. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

struct pl011 {
    GMutex lock;
    struct console *console;
    uint32_t regs[NR_REGS]; /* the plain read/write ones: IBRD, LCR_H, CR, IMSC, ... */
    uint8_t rx[RX_FIFO];
    unsigned rx_head, rx_count;
    struct irq_line irq;
    bool has_irq;
};

static uint32_t raw_status(struct pl011 *p)
{
    return INT_TX | (p->rx_count ? INT_RX | INT_RT : 0);
}

static void update_irq(struct pl011 *p)
{
    if (p->has_irq)
        irq_line_set(&p->irq, raw_status(p) & p->regs[UARTIMSC / 4]);
}

static uint32_t pl011_read(struct pl011 *p, uint64_t off)
{
    uint32_t v;

    switch (off) {
    case UARTDR:
        if (!p->rx_count)
            return 0;
        v = p->rx[p->rx_head];
        p->rx_head = (p->rx_head + 1) % RX_FIFO;
        p->rx_count--;
        update_irq(p);
        return v;
    case UARTFR: return FR_TXFE | (p->rx_count ? 0 : FR_RXFE);
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

        console_write(p->console, &c, 1);
    } else if (off != UARTFR && off != UARTICR && off != UARTRIS && off != UARTMIS &&
               off / 4 < NR_REGS) {
        /* ICR has nothing to clear: every raw status follows the FIFOs. */
        p->regs[off / 4] = v;
    }
    update_irq(p);
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
    g_mutex_lock(&p->lock);
    if (is_write) {
        memcpy(&v, data, len);
        pl011_write(p, offset, v);
    } else {
        v = pl011_read(p, offset);
        memcpy(data, &v, len);
    }
    g_mutex_unlock(&p->lock);
}

static size_t pl011_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct pl011 *p = opaque;
    size_t n = 0;

    g_mutex_lock(&p->lock);
    /* Input waits until a driver listens (receive interrupt unmasked). */
    while (p->has_irq && (p->regs[UARTIMSC / 4] & INT_RX) && n < len &&
           p->rx_count < RX_FIFO) {
        p->rx[(p->rx_head + p->rx_count) % RX_FIFO] = buf[n++];
        p->rx_count++;
    }
    update_irq(p);
    g_mutex_unlock(&p->lock);
    return n;
}

/* From the VM's I/O registry, once no vCPU runs: stdin must not reach
 * it any more. */
static void pl011_free(void *opaque)
{
    struct pl011 *p = opaque;

    console_input_detach(p->console, p);
    g_mutex_clear(&p->lock);
    g_free(p);
}

bool pl011_register(struct vm *vm, uint64_t base, GError **error)
{
    struct pl011 *p = g_new0(struct pl011, 1);

    g_mutex_init(&p->lock);
    p->console = vm->console;
    /* Owned by the registry from here, whether the range registers or not. */
    iobus_add_cleanup(&vm->iobus, pl011_free, p);
    if (!iobus_register(&vm->iobus, IOBUS_MMIO, base, 0x1000, pl011_mmio, p, "pl011", error))
        return false;
    console_set_input(vm->console, pl011_receive, p);
    return true;
}

bool pl011_connect_irq(struct vm *vm, uint64_t base, uint32_t kvm_irq, GError **error)
{
    const struct io_range *r = iobus_find(&vm->iobus, IOBUS_MMIO, base);
    struct pl011 *p;

    if (!r || r->handler != pl011_mmio) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "no PL011 at %#llx",
                    (unsigned long long)base);
        return false;
    }
    p = r->opaque;
    g_mutex_lock(&p->lock);
    irq_line_init(&p->irq, vm, kvm_irq);
    p->has_irq = true;
    g_mutex_unlock(&p->lock);
    return true;
}
