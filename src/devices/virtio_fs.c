/*
 * virtio-fs (virtio 1.x section 5.11) with its queues served by a
 * virtiofsd over vhost-user (vmm/hw/virtio_fs.h).
 *
 * Realize starts the daemon, asks for its features (the device offers
 * what the daemon does) and gives it guest RAM (a memfd: see
 * vm_create()). At DRIVER_OK the transport's offload hook hands it the
 * queues: sizes, addresses in vmm's mapping of RAM, start indices and the
 * eventfds. A driver's reset stops each queue (GET_VRING_BASE) before the
 * transport lets the reset complete. A daemon that dies breaks the device
 * only, with one line naming the share and how it ended (at the next
 * start: DEVICE_NEEDS_RESET; while it runs: a watch thread sees its socket
 * hang up); vmm and the VM keep running.
 */
#include <errno.h>
#include <linux/virtio_ids.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/virtio_fs.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtiofsd.h"
#include "vmm/seccomp.h"
#include "vmm/vhost_user.h"

#define HIPRIO_QUEUE 0
#define NR_QUEUES 2              /* hiprio and one request queue */
/* The transport's own feature bits (VERSION_1 and up, the ring features)
 * are its to offer; the device's are bits 0-23. */
#define DEVICE_FEATURES_MASK ((1ull << 24) - 1)
#define F_VERSION_1 32

const unsigned virtio_fs_share_index[VMM_MAX_SHARES] = { 0, 1, 2, 3 };

struct virtio_fs {
    struct virtio_pci vp;
    struct virtio_pci_model model;
    struct virtiofsd daemon;
    struct vhost_user vu;
    const struct guest_mem *mem;
    unsigned started[NR_QUEUES]; /* the queues the daemon has (lock held) */
    unsigned nr_started;
    /* The watch: one line when the daemon's socket hangs up while the VM
     * runs (vmm's own stop silences it first). */
    GThread *watch;
    int watch_stop;              /* eventfd */
};

/* Never called: both queues are the daemon's. */
static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    return true;
}

/* @error with how the daemon ended, when it has (waiting up to @wait_ms). */
static void add_daemon_end(struct virtio_fs *fs, GError **error, unsigned wait_ms)
{
    g_autofree char *why = NULL;

    if (!error || !*error || !(why = virtiofsd_why(&fs->daemon, wait_ms)))
        return;
    {
        char *m = g_strdup_printf("%s (%s)", (*error)->message, why);

        g_free((*error)->message);
        (*error)->message = m;
    }
}

static bool start_queue(struct virtio_fs *fs, const struct virtio_pci_offload_queue *q,
                        GError **error)
{
    struct vhost_user *vu = &fs->vu;
    /* vmm's addresses: the daemon translates them through the memory table. */
    uint64_t desc = (uintptr_t)q->desc_hva, avail = (uintptr_t)q->driver_hva,
             used = (uintptr_t)q->device_hva;

    return vhost_user_set_vring_num(vu, q->index, q->size, error) &&
           vhost_user_set_vring_base(vu, q->index, 0, error) &&
           vhost_user_set_vring_addr(vu, q->index, desc, used, avail, error) &&
           vhost_user_set_vring_call(vu, q->index, q->call_fd, error) &&
           vhost_user_set_vring_kick(vu, q->index, q->kick_fd, error) &&
           (!(vu->features & (1ull << VHOST_USER_F_PROTOCOL_FEATURES)) ||
            vhost_user_set_vring_enable(vu, q->index, true, error));
}

static void fs_stop(struct virtio_pci *vp);

static bool fs_start(struct virtio_pci *vp, uint64_t features,
                     const struct virtio_pci_offload_queue *q, unsigned n, GError **error)
{
    struct virtio_fs *fs = vp->opaque;

    if (!vhost_user_set_features(&fs->vu, features, error))
        goto fail;
    for (unsigned i = 0; i < n; i++) {
        if (!start_queue(fs, &q[i], error))
            goto fail;
        fs->started[fs->nr_started++] = q[i].index;
    }
    return true;

fail:
    add_daemon_end(fs, error, 0);
    fs_stop(vp);
    return false;
}

static void fs_stop(struct virtio_pci *vp)
{
    struct virtio_fs *fs = vp->opaque;

    for (unsigned i = 0; i < fs->nr_started; i++) {
        g_autoptr(GError) err = NULL;
        bool was_broken = fs->vu.broken != NULL;
        unsigned base;

        /* Once it answers, the daemon no longer touches the ring. One that
         * does not answer in time is not waited for: its socket is broken
         * from then on (logged the first time), and it is stopped with the VM. */
        if (!vhost_user_get_vring_base(&fs->vu, fs->started[i], &base, &err) && !was_broken) {
            add_daemon_end(fs, &err, 0);
            vmm_log("%s", err->message);
        }
    }
    fs->nr_started = 0;
}

/* Waits for the daemon's socket to hang up (POLLRDHUP: nothing is read,
 * the worker's replies are not disturbed) and says so once, with how the
 * daemon ended when it has (waitid with WNOWAIT: the reaping stays
 * virtiofsd_stop()'s). Started before vmm's filters, it narrows to the
 * fs list as it wakes, as the device worker does. */
static gpointer watch_daemon(gpointer data)
{
    struct virtio_fs *fs = data;
    struct pollfd p[2] = { { .fd = fs->watch_stop, .events = POLLIN },
                           { .fd = fs->daemon.sock, .events = POLLRDHUP } };

    for (;;) {
        vmm_seccomp_adopt(VMM_THREAD_FS);
        if (poll(p, 2, -1) < 0)
            continue;
        vmm_seccomp_adopt(VMM_THREAD_FS);
        if (p[0].revents)
            return NULL;
        if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR))
            break;
    }
    {
        siginfo_t info = { 0 };
        g_autofree char *how = NULL;

        /* Its exit follows the socket's end closely: bounded, never long. */
        for (int i = 0; i < 100 && !info.si_pid; i++) {
            if (waitid(P_PID, fs->daemon.pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
                break;
            if (!info.si_pid)
                g_usleep(10 * 1000);
        }
        if (info.si_pid && info.si_code == CLD_EXITED)
            how = g_strdup_printf("virtiofsd exited with status %d", info.si_status);
        else if (info.si_pid)
            how = g_strdup_printf("virtiofsd was killed by signal %d (%s)", info.si_status,
                                  strsignal(info.si_status));
        else
            how = g_strdup("virtiofsd closed its socket");
        vmm_log("%s: %s while the VM runs: the share no longer answers the guest",
                fs->vu.name, how);
    }
    return NULL;
}

static const struct virtio_pci_offload fs_offload = {
    .queues = (1u << NR_QUEUES) - 1,
    .start = fs_start,
    .stop = fs_stop,
};

/* Guest RAM for the daemon: the shared regions (RAM is one when the VM
 * has shares). */
static bool send_memory(struct virtio_fs *fs, const struct guest_mem *mem, GError **error)
{
    struct vhost_user_region r[VHOST_USER_MAX_REGIONS];
    unsigned n = 0;

    for (unsigned i = 0; i < mem->nr && n < VHOST_USER_MAX_REGIONS; i++) {
        const struct mem_region *m = &mem->regions[i];

        if (m->shared)
            r[n++] = (struct vhost_user_region){ .gpa = m->gpa, .size = m->size,
                                                 .hva = (uintptr_t)m->hva, .fd = m->fd };
    }
    if (!n) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "%s: guest RAM is not shared memory", fs->vu.name);
        return false;
    }
    return vhost_user_set_mem_table(&fs->vu, r, n, error);
}

static bool virtio_fs_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    unsigned i = *(const unsigned *)dev->desc->params;
    const struct device_share *share;
    struct virtio_fs *fs;
    uint32_t nr_request_queues = GUINT32_TO_LE(NR_QUEUES - 1);

    if (i >= ctx->nr_shares)
        return true; /* no share n: the line stays empty */
    share = &ctx->shares[i];
    fs = g_new0(struct virtio_fs, 1);
    fs->mem = ctx->mem;
    fs->watch_stop = -1;
    dev->state = fs;
    if (!virtiofsd_start(&fs->daemon, share, error))
        return false;
    vhost_user_init(&fs->vu, fs->daemon.sock, fs->daemon.what);
    if (!vhost_user_connect(&fs->vu, error) || !send_memory(fs, ctx->mem, error)) {
        /* Most often the daemon ended at its start: say how. */
        add_daemon_end(fs, error, 1000);
        return false;
    }
    if (!(fs->vu.features & (1ull << F_VERSION_1))) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST,
                    "%s: virtiofsd does not offer VIRTIO_F_VERSION_1", fs->vu.name);
        return false;
    }
    fs->model = (struct virtio_pci_model){
        .name = "virtio-fs",
        .device_id = VIRTIO_ID_FS,
        .class_code = 0x018000,       /* mass storage, other: as other virtio-fs devices */
        .features = fs->vu.features & DEVICE_FEATURES_MASK,
        .nr_queues = NR_QUEUES,
        .config_size = VIRTIO_FS_CONFIG_SIZE,
        .thread_kind = VMM_THREAD_FS,
        .queue_notified = queue_notified,
        .offload = &fs_offload,
    };
    if (!virtio_pci_realize(&fs->vp, &fs->model, fs, dev, ctx, error))
        return false;
    fs->watch_stop = eventfd(0, EFD_CLOEXEC);
    if (fs->watch_stop < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_HOST, "%s: eventfd: %s", fs->vu.name,
                    g_strerror(errno));
        return false;
    }
    fs->watch = g_thread_new("virtio-fs-watch", watch_daemon, fs);
    g_mutex_lock(&fs->vp.lock);
    memset(fs->vp.config, 0, VIRTIO_FS_CONFIG_SIZE);
    memcpy(fs->vp.config, share->tag, MIN(strlen(share->tag), (size_t)VMM_SHARE_TAG_MAX));
    memcpy(fs->vp.config + VMM_SHARE_TAG_MAX, &nr_request_queues, 4);
    g_mutex_unlock(&fs->vp.lock);
    return true;
}

static void virtio_fs_destroy(struct device *dev)
{
    struct virtio_fs *fs = dev->state;

    /* The transport first: its worker stops the daemon's queues. */
    if (fs->vp.model)
        virtio_pci_destroy(&fs->vp);
    /* The watch before the daemon's stop, which would look like its death. */
    if (fs->watch) {
        (void)!eventfd_write(fs->watch_stop, 1);
        g_thread_join(fs->watch);
    }
    if (fs->watch_stop >= 0)
        close(fs->watch_stop);
    vhost_user_clear(&fs->vu);
    virtiofsd_stop(&fs->daemon);
    g_free(fs);
}

const struct device_ops virtio_fs_device = {
    .name = "virtio-fs",
    .realize = virtio_fs_realize,
    .destroy = virtio_fs_destroy,
};
