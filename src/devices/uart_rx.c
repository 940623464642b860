/* The receive side UARTs share (vmm/hw/uart_rx.h). */
#include "vmm/console-input.h"
#include "vmm/console.h"
#include "vmm/device.h"
#include "vmm/hw/uart_rx.h"

void uart_rx_init(struct uart_rx *rx, unsigned depth, const struct device_ctx *ctx,
                  bool (*receiving)(struct uart_rx *rx),
                  bool (*irq_level)(struct uart_rx *rx))
{
    g_assert(depth <= UART_RX_MAX);
    g_mutex_init(&rx->lock);
    rx->console = ctx->console;
    rx->depth = depth;
    rx->head = rx->count = 0;
    rx->has_irq = ctx->irq_wired;
    if (rx->has_irq)
        rx->irq = ctx->irq;
    rx->receiving = receiving;
    rx->irq_level = irq_level;
    if (ctx->console)
        console_set_input(ctx->console, uart_rx_receive, rx);
}

void uart_rx_destroy(struct uart_rx *rx)
{
    console_input_detach(rx->console, rx);
    g_mutex_clear(&rx->lock);
}

void uart_rx_update_irq(struct uart_rx *rx)
{
    if (rx->has_irq)
        irq_line_set(&rx->irq, rx->irq_level(rx));
}

uint8_t uart_rx_pop(struct uart_rx *rx)
{
    uint8_t v;

    if (!rx->count)
        return 0;
    v = rx->fifo[rx->head];
    rx->head = (rx->head + 1) % rx->depth;
    rx->count--;
    uart_rx_update_irq(rx);
    return v;
}

void uart_rx_clear(struct uart_rx *rx)
{
    rx->head = rx->count = 0;
}

size_t uart_rx_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct uart_rx *rx = opaque;
    size_t n = 0;

    g_mutex_lock(&rx->lock);
    while ((!rx->receiving || rx->receiving(rx)) && n < len && rx->count < rx->depth) {
        rx->fifo[(rx->head + rx->count) % rx->depth] = buf[n++];
        rx->count++;
    }
    uart_rx_update_irq(rx);
    g_mutex_unlock(&rx->lock);
    return n;
}
