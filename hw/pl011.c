/*
 * PL011: polled output, and the identification registers Linux's AMBA bus
 * reads before it binds a driver. Interrupts and input come with Linux boot.
 */
#include <string.h>

#include "vmm/console.h"
#include "vmm/hw/pl011.h"
#include "vmm/vm.h"

#define UARTDR    0x000
#define UARTFR    0x018
#define UARTICR   0x044
#define UARTPID0  0xfe0
#define FR_RXFE   0x10
#define FR_TXFE   0x80
#define NR_REGS   (0x50 / 4)

/* PrimeCell peripheral and cell ID bytes of an r1p5 PL011. */
static const uint8_t pl011_id[8] = { 0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };

struct pl011 {
    GMutex lock;
    struct console *console;
    uint32_t regs[NR_REGS]; /* the plain read/write ones: IBRD, LCR_H, CR, ... */
};

static uint32_t pl011_read(struct pl011 *p, uint64_t off)
{
    if (off == UARTDR)
        return 0;
    if (off == UARTFR)
        return FR_TXFE | FR_RXFE;
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
    } else if (off != UARTFR && off != UARTICR && off / 4 < NR_REGS) {
        p->regs[off / 4] = v;
    }
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

bool pl011_register(struct vm *vm, uint64_t base, GError **error)
{
    struct pl011 *p = g_new0(struct pl011, 1);

    g_mutex_init(&p->lock);
    p->console = vm->console;
    return iobus_register(&vm->iobus, IOBUS_MMIO, base, 0x1000, pl011_mmio, p,
                          "pl011", error);
}
