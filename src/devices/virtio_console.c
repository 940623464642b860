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

/* A transmitted chain's readable buffers, in order, to the console (none:
 * dropped, the driver still gets its buffers back); nothing written. */
static uint32_t transmit(struct virtio_pci *vp, const struct virtq_chain *chain)
{
    for (unsigned i = 0; i < chain->nr_out && vp->console; i++)
        console_write(vp->console, chain->iov[i].iov_base, chain->iov[i].iov_len);
    return 0;
}

/* The receive queue's buffers wait for input that never comes yet. */
static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    return q == TRANSMITQ && virtio_pci_serve(vp, TRANSMITQ, transmit);
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
    return virtio_pci_device_realize(dev, ctx, &console_model, error);
}

const struct device_ops virtio_console_device = {
    .name = "virtio-console",
    .realize = virtio_console_realize,
    .destroy = virtio_pci_device_destroy,
};
