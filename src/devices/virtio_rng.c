/*
 * virtio-rng, the entropy device (virtio 1.x section 5.4): one request
 * queue whose writable buffers the device fills from the host's
 * getrandom(2); /dev/hwrng in a Linux guest (driver virtio-rng).
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <sys/random.h>

#include "vmm/error.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_rng.h"

#define REQUESTQ 0
/* Bytes given per request at most (the spec lets the device give fewer
 * than the buffers hold): a guest that asks for all its RAM at once does
 * not keep the worker in getrandom for long. */
#define REQUEST_MAX_BYTES 65536

/* Fills up to @len bytes at @buf; the count filled (less only when the
 * host's getrandom fails, which is logged once). */
static size_t fill(uint8_t *buf, size_t len)
{
    static bool logged;
    size_t done = 0;

    while (done < len) {
        ssize_t r = getrandom(buf + done, len - done, 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (!__atomic_exchange_n(&logged, true, __ATOMIC_RELAXED))
                vmm_log("virtio-rng: getrandom: %s; the guest gets fewer bytes (logged once)",
                        r < 0 ? g_strerror(errno) : "no bytes");
            break;
        }
        done += r;
    }
    return done;
}

/* One request: its writable buffers filled, in order, up to the cap. */
static uint32_t serve_request(struct virtio_pci *vp, const struct virtq_chain *chain)
{
    const struct iovec *in = chain->iov + chain->nr_out;
    size_t total = 0;

    for (unsigned i = 0; i < chain->nr_in && total < REQUEST_MAX_BYTES; i++) {
        size_t want = MIN(in[i].iov_len, REQUEST_MAX_BYTES - total);
        size_t got = fill(in[i].iov_base, want);

        total += got;
        if (got < want)
            break;
    }
    return (uint32_t)total;
}

static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    return virtio_pci_serve(vp, REQUESTQ, serve_request);
}

static const struct virtio_pci_model rng_model = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .class_code = 0xff0000,       /* unassigned class: as other virtio-rng devices */
    .nr_queues = 1,
    .config_size = 0,             /* none, and no features */
    .queue_notified = queue_notified,
};

static bool virtio_rng_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    return virtio_pci_device_realize(dev, ctx, &rng_model, error);
}

const struct device_ops virtio_rng_device = {
    .name = "virtio-rng",
    .realize = virtio_rng_realize,
    .destroy = virtio_pci_device_destroy,
};
