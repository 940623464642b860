/*
 * What the 16550 and the PL011 share: the lock of the UART's registers,
 * its receive FIFO fed by the console's input (stdin), and its interrupt
 * line. A model embeds one (first member) and says, through callbacks
 * called under the lock, whether its receiver is on (a PL011's CR; a
 * 16550 always receives, as the hardware does) and what level its
 * interrupt line has. Input reaches the FIFO whenever the receiver is on,
 * whether or not the guest unmasked the receive interrupt: a guest may
 * poll. What does not fit waits on the host side (never dropped).
 */
#ifndef VMM_HW_UART_RX_H
#define VMM_HW_UART_RX_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/irq.h"

struct console;
struct device_ctx;

#define UART_RX_MAX 32

struct uart_rx {
    GMutex lock;               /* the whole UART's */
    struct console *console;
    uint8_t fifo[UART_RX_MAX];
    unsigned depth;            /* the model's FIFO size, <= UART_RX_MAX */
    unsigned head, count;
    struct irq_line irq;
    bool has_irq;              /* a Linux boot wires the line */
    bool (*receiving)(struct uart_rx *rx); /* NULL: always */
    bool (*irq_level)(struct uart_rx *rx);
};

/* Takes the console and interrupt line of @ctx, and becomes the console's
 * input. @receiving says whether the receiver is on (NULL: always). */
void uart_rx_init(struct uart_rx *rx, unsigned depth, const struct device_ctx *ctx,
                  bool (*receiving)(struct uart_rx *rx),
                  bool (*irq_level)(struct uart_rx *rx));
/* Stops the console's input from reaching @rx (waiting for a delivery in
 * progress); then it may be freed. */
void uart_rx_destroy(struct uart_rx *rx);

/* Under rx->lock: */
/* The oldest received byte (0 when there is none); the line follows. */
uint8_t uart_rx_pop(struct uart_rx *rx);
void uart_rx_clear(struct uart_rx *rx);
/* Sends the model's level to the interrupt line, when one is wired. */
void uart_rx_update_irq(struct uart_rx *rx);

/* The console's input callback (console_input_fn): takes what fits in the
 * FIFO while the receiver is on. */
size_t uart_rx_receive(void *opaque, const uint8_t *buf, size_t len);

#endif
