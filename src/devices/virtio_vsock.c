/*
 * virtio-vsock (vmm/hw/virtio_vsock.h): the device half is the host
 * kernel's vhost-vsock; vmm describes guest RAM to it, hands it the rings
 * the driver set up and the eventfds that stand for kicks and interrupts,
 * and stops it before the rings can go away.
 *
 * Which vhost ioctl runs where:
 * - realize (the VM's build, before any filter or sandbox): open,
 *   VHOST_SET_OWNER, VHOST_GET_FEATURES, VHOST_VSOCK_SET_GUEST_CID;
 * - start (the transport's worker, at DRIVER_OK): VHOST_SET_FEATURES,
 *   VHOST_SET_MEM_TABLE, VHOST_SET_VRING_NUM/BASE/ADDR/KICK/CALL per queue,
 *   VHOST_VSOCK_SET_RUNNING 1;
 * - stop (the same worker, at a reset or the device's end):
 *   VHOST_VSOCK_SET_RUNNING 0, after which vhost touches no ring (it drops
 *   each queue's backend under that queue's lock, which its handlers hold);
 * - destroy: close, which frees the CID.
 * The worker's seccomp kind (vsock) allows exactly the start and stop ones.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <string.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_vsock.h"
#include "vmm/kvm.h"
#include "vmm/seccomp.h"

#define RXQ 0
#define TXQ 1
#define EVENTQ 2
#define CONFIG_SIZE 8             /* struct virtio_vsock_config: guest_cid, le64 */
/* The ring features the transport offers on its own: vhost must handle
 * them too, since it is vhost that walks the rings. */
#define RING_FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | \
                       (1ULL << VIRTIO_RING_F_EVENT_IDX))
/* The device's own features, when vhost offers them. */
#define DEVICE_FEATURES (1ULL << VIRTIO_VSOCK_F_SEQPACKET)

const char *virtio_vsock_dev_path = "/dev/vhost-vsock";
int (*virtio_vsock_ioctl)(int fd, unsigned long request, void *arg) = __vmm_ioctl;

struct virtio_vsock {
    struct virtio_pci vp;
    struct virtio_pci_model model;  /* its features are what vhost offers */
    int fd;                         /* /dev/vhost-vsock */
    uint64_t cid;
    uint64_t backend_features;
    bool running;                   /* transport lock: started and not stopped */
};

/* One vhost ioctl; false with "virtio-vsock: NAME: strerror" in @error. */
#define vhost(v, request, arg, error) vhost_named((v), (request), #request, (arg), (error))
static bool vhost_named(struct virtio_vsock *v, unsigned long request, const char *name,
                        void *arg, GError **error)
{
    int r = virtio_vsock_ioctl(v->fd, request, arg);

    if (r >= 0)
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "virtio-vsock: %s: %s", name, g_strerror(-r));
    return false;
}

/* --- start and stop (the transport's worker, lock held) ------------------------ */

/* Guest RAM as vhost sees it: each writable region (the rings and the
 * packets' buffers live in RAM; a buffer elsewhere fails in vhost, which
 * then stops that queue). */
static bool set_mem_table(struct virtio_vsock *v, GError **error)
{
    struct {
        struct vhost_memory m;
        struct vhost_memory_region r[VMM_MAX_MEM_REGIONS];
    } table = { 0 };
    const struct guest_mem *mem = v->vp.mem;

    for (unsigned i = 0; i < mem->nr; i++) {
        const struct mem_region *r = &mem->regions[i];

        if (r->readonly || !r->size)
            continue;
        table.r[table.m.nregions++] = (struct vhost_memory_region){
            .guest_phys_addr = r->gpa, .memory_size = r->size,
            .userspace_addr = (uintptr_t)r->hva,
        };
    }
    return vhost(v, VHOST_SET_MEM_TABLE, &table, error);
}

static bool start_queue(struct virtio_vsock *v, const struct virtio_pci_offload_queue *q,
                        GError **error)
{
    struct vhost_vring_state num = { .index = q->index, .num = q->size };
    struct vhost_vring_state base = { .index = q->index, .num = 0 }; /* a fresh ring */
    /* vmm's addresses of the rings (the transport checked them). */
    struct vhost_vring_addr addr = {
        .index = q->index, .desc_user_addr = (uintptr_t)q->desc_hva,
        .avail_user_addr = (uintptr_t)q->driver_hva, .used_user_addr = (uintptr_t)q->device_hva,
    };
    struct vhost_vring_file kick = { .index = q->index, .fd = q->kick_fd };
    struct vhost_vring_file call = { .index = q->index, .fd = q->call_fd };

    return vhost(v, VHOST_SET_VRING_NUM, &num, error) &&
           vhost(v, VHOST_SET_VRING_BASE, &base, error) &&
           vhost(v, VHOST_SET_VRING_ADDR, &addr, error) &&
           vhost(v, VHOST_SET_VRING_KICK, &kick, error) &&
           vhost(v, VHOST_SET_VRING_CALL, &call, error);
}

static bool vsock_start(struct virtio_pci *vp, uint64_t features,
                        const struct virtio_pci_offload_queue *q, unsigned n, GError **error)
{
    struct virtio_vsock *v = vp->opaque;
    uint64_t f = features & v->backend_features;
    int running = 1;

    /* vhost-vsock runs both queues or neither (SET_RUNNING checks each). */
    if (n != 2 || q[0].index != RXQ || q[1].index != TXQ) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "virtio-vsock: the driver did not enable both the receive and the "
                    "transmit queue");
        return false;
    }
    if (!vhost(v, VHOST_SET_FEATURES, &f, error) || !set_mem_table(v, error) ||
        !start_queue(v, &q[0], error) || !start_queue(v, &q[1], error) ||
        !vhost(v, VHOST_VSOCK_SET_RUNNING, &running, error))
        return false;
    v->running = true;
    return true;
}

static void vsock_stop(struct virtio_pci *vp)
{
    struct virtio_vsock *v = vp->opaque;
    g_autoptr(GError) err = NULL;
    int running = 0;

    if (!v->running)
        return;
    /* It fails only when vmm is not vhost's owner, which it is from
     * realize on; were it to fail, the fd's close is the only stop left. */
    if (!vhost(v, VHOST_VSOCK_SET_RUNNING, &running, &err)) {
        vmm_log("%s; closing it instead", err->message);
        close(v->fd);
        v->fd = -1;
    }
    v->running = false;
}

static const struct virtio_pci_offload vsock_offload = {
    .queues = (1U << RXQ) | (1U << TXQ),
    .start = vsock_start,
    .stop = vsock_stop,
};

/* The event queue: vmm sends no events (a transport reset event is for
 * migration), so the driver's buffers stay where they are. */
static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    return false;
}

/* --- realize ------------------------------------------------------------------- */

static bool open_vhost(struct virtio_vsock *v, GError **error)
{
    uint64_t required = RING_FEATURES;
    uint64_t cid = v->cid;
    int r;

    v->fd = open(virtio_vsock_dev_path, O_RDWR | O_CLOEXEC);
    if (v->fd < 0) {
        int e = errno;

        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "virtio-vsock: %s: %s%s",
                    virtio_vsock_dev_path, g_strerror(e),
                    e == ENOENT || e == ENODEV ? " (load vhost_vsock: modprobe vhost_vsock)"
                    : e == EACCES || e == EPERM ? " (vmm needs read and write access to it)"
                    : "");
        return false;
    }
    if (!vhost(v, VHOST_SET_OWNER, NULL, error) ||
        !vhost(v, VHOST_GET_FEATURES, &v->backend_features, error))
        return false;
    if ((v->backend_features & required) != required) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "virtio-vsock: VHOST_GET_FEATURES: the kernel's vhost-vsock lacks "
                    "features 0x%" G_GINT64_MODIFIER "x", required & ~v->backend_features);
        return false;
    }
    r = virtio_vsock_ioctl(v->fd, VHOST_VSOCK_SET_GUEST_CID, &cid);
    if (r < 0) {
        if (r == -EADDRINUSE)
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "virtio-vsock: VHOST_VSOCK_SET_GUEST_CID: CID %" G_GUINT64_FORMAT
                        " is in use (another VM, or this host, has it)", v->cid);
        else
            g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                        "virtio-vsock: VHOST_VSOCK_SET_GUEST_CID %" G_GUINT64_FORMAT ": %s",
                        v->cid, g_strerror(-r));
        return false;
    }
    return true;
}

static bool virtio_vsock_realize(struct device *dev, const struct device_ctx *ctx,
                                 GError **error)
{
    struct virtio_vsock *v = g_new0(struct virtio_vsock, 1);
    uint64_t cid_le;

    v->fd = -1;
    v->cid = ctx->vsock_cid;
    dev->state = v;
    if (v->cid < VMM_VSOCK_CID_MIN || v->cid > VMM_VSOCK_CID_MAX) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "virtio-vsock: CID %" G_GUINT64_FORMAT " is reserved", v->cid);
        return false;
    }
    if (!open_vhost(v, error))
        return false;
    v->model = (struct virtio_pci_model){
        .name = "virtio-vsock",
        .device_id = VIRTIO_ID_VSOCK,
        .class_code = 0xff0000,     /* unassigned class: as other virtio-vsock devices */
        .features = v->backend_features & DEVICE_FEATURES,
        .nr_queues = 3,
        .config_size = CONFIG_SIZE,
        .thread_kind = VMM_THREAD_VSOCK,
        .queue_notified = queue_notified,
        .offload = &vsock_offload,
    };
    if (!virtio_pci_realize(&v->vp, &v->model, v, dev, ctx, error))
        return false;
    cid_le = GUINT64_TO_LE(v->cid);
    g_mutex_lock(&v->vp.lock);
    memcpy(v->vp.config, &cid_le, sizeof(cid_le));
    g_mutex_unlock(&v->vp.lock);
    return true;
}

static void virtio_vsock_destroy(struct device *dev)
{
    struct virtio_vsock *v = dev->state;

    /* The transport stops vhost (the offload's stop) as it goes. */
    if (v->vp.model)
        virtio_pci_destroy(&v->vp);
    if (v->fd >= 0)
        close(v->fd); /* and the CID with it */
    g_free(v);
}

const struct device_ops virtio_vsock_device = {
    .name = "virtio-vsock",
    .realize = virtio_vsock_realize,
    .destroy = virtio_vsock_destroy,
};
