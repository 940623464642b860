/*
 * virtio-console (virtio 1.x section 5.3): one port, hvc0 in a Linux
 * guest, whose output goes to the VM's console beside the UART's. Its
 * receive queue stays empty for now: the VM's input belongs to the UART.
 */
#include <linux/virtio_ids.h>

#include "vmm/console.h"
#include "vmm/hw/virtio_console.h"
#include "vmm/hw/virtio_pci.h"

#define RECEIVEQ 0
#define TRANSMITQ 1
/* Chains taken per pass: then the worker lets register accesses in and
 * comes back, so a guest that keeps its queue full never holds the lock. */
#define CHAINS_PER_PASS 64

struct virtio_console {
    struct virtio_pci vp;
    struct virtq_chain chain;
};

/* Takes the transmit queue's chains to the console (none: dropped, the
 * driver still gets its buffers back); whether it took them all. */
static bool transmit(struct virtio_pci *vp)
{
    struct virtio_console *c = vp->opaque;
    unsigned n = 0;

    while (n < CHAINS_PER_PASS && virtio_pci_pop(vp, TRANSMITQ, &c->chain)) {
        for (unsigned i = 0; i < c->chain.nr_out && vp->console; i++)
            console_write(vp->console, c->chain.iov[i].iov_base, c->chain.iov[i].iov_len);
        virtio_pci_push(vp, TRANSMITQ, &c->chain, 0);
        n++;
    }
    if (n)
        virtio_pci_notify(vp, TRANSMITQ);
    if (n < CHAINS_PER_PASS)
        return true;
    virtio_pci_kick(vp, TRANSMITQ);
    return false;
}

/* The receive queue's buffers wait for input that never comes yet. */
static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    return q == TRANSMITQ && transmit(vp);
}

static const struct virtio_pci_model console_model = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .class_code = 0x078000,       /* simple communication controller, other */
    .nr_queues = 2,
    .config_size = 12,            /* cols, rows, max_nr_ports, emerg_wr: no feature uses them */
    .queue_notified = queue_notified,
};

static bool virtio_console_realize(struct device *dev, const struct device_ctx *ctx,
                                   GError **error)
{
    struct virtio_console *c = g_new0(struct virtio_console, 1);

    dev->state = c;
    return virtio_pci_realize(&c->vp, &console_model, c, dev, ctx, error);
}

static void virtio_console_destroy(struct device *dev)
{
    struct virtio_console *c = dev->state;

    virtio_pci_destroy(&c->vp);
    g_free(c);
}

const struct device_ops virtio_console_device = {
    .name = "virtio-console",
    .realize = virtio_console_realize,
    .destroy = virtio_console_destroy,
};
