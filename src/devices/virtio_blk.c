/*
 * virtio-blk (vmm/hw/virtio_blk.h): one request queue over a raw image.
 *
 * A request is a header (type, sector) in the chain's first 16 readable
 * bytes, data, and a status byte: the chain's last writable byte. The
 * driver is hostile, and nothing it sends can make vmm touch anything but
 * the chain's buffers (inside guest RAM, checked by the virtqueue code)
 * and the image's sectors below its capacity: a request whose layout does
 * not fit its type (data in the wrong direction, no room for an ID, a
 * length that is not whole sectors), that reaches past the capacity or
 * wraps around, or writes a read-only disk gets VIRTIO_BLK_S_IOERR; an
 * unknown type or one not offered, VIRTIO_BLK_S_UNSUPP; a chain with no
 * writable byte cannot be answered and goes back with nothing written.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <stddef.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "vmm/error.h"
#include "vmm/hw/virtio_blk.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/seccomp.h"

#define REQUESTQ 0
#define HEADER_SIZE 16            /* struct virtio_blk_outhdr */
#define RANGE_SIZE 16             /* struct virtio_blk_discard_write_zeroes */
#define SECTOR_SHIFT 9
/* Guests are told to discard in 4 KiB units: a file system's block. */
#define DISCARD_ALIGNMENT_SECTORS 8

const unsigned virtio_blk_disk_index[VMM_MAX_DISKS] = { 0, 1, 2, 3, 4, 5, 6, 7 };
G_STATIC_ASSERT(VMM_MAX_DISKS == 8);
G_STATIC_ASSERT(VIRTIO_BLK_CONFIG_SIZE == offsetof(struct virtio_blk_config,
                                                   max_secure_erase_sectors));
G_STATIC_ASSERT(VIRTIO_BLK_CONFIG_SIZE <= sizeof(((struct virtio_pci *)0)->config));

/* --- the image ----------------------------------------------------------------- */

static const char *file_kind(mode_t mode)
{
    switch (mode & S_IFMT) {
    case S_IFDIR: return "a directory";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a regular file";
    }
}

static bool usable_kind(const struct stat *st, const char *path, GError **error)
{
    if (S_ISREG(st->st_mode) || S_ISBLK(st->st_mode))
        return true;
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                "disk %s: %s; a disk is a regular file or a block device", path,
                file_kind(st->st_mode));
    return false;
}

/* Whether fallocate(@mode) works on the file, tried past its end with
 * KEEP_SIZE so that no byte of the image changes (ZERO_RANGE may leave a
 * preallocated block there, outside the size). */
static bool falloc_works(int fd, int mode, uint64_t size)
{
    uint64_t past = (size + 4095) & ~4095ULL;
    int r;

    do
        r = fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)past, 4096);
    while (r < 0 && errno == EINTR);
    return r == 0;
}

bool virtio_blk_open(struct virtio_blk_disk *d, const struct device_disk *cfg, GError **error)
{
    struct stat st;
    off_t size;
    size_t serial_len = cfg->serial ? strlen(cfg->serial) : 0;

    memset(d, 0, sizeof(*d));
    d->fd = -1;
    d->path = g_strdup(cfg->path);
    d->readonly = cfg->readonly;
    memcpy(d->id, cfg->serial ? cfg->serial : "", MIN(serial_len, sizeof(d->id)));
    /* Never open what is not a disk: opening a FIFO or a device can block
     * or act; the type is checked again on the open file. */
    if (stat(cfg->path, &st) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: %s", cfg->path,
                    g_strerror(errno));
        return false;
    }
    if (!usable_kind(&st, cfg->path, error))
        return false;
    d->fd = open(cfg->path, (cfg->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NOCTTY |
                 O_NONBLOCK);
    if (d->fd < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: %s%s", cfg->path,
                    g_strerror(errno),
                    errno == EACCES || errno == EROFS ? " (readonly = true opens it read-only)"
                                                      : "");
        return false;
    }
    if (fstat(d->fd, &st) < 0 || !usable_kind(&st, cfg->path, error)) {
        if (error && !*error)
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: %s", cfg->path,
                        g_strerror(errno));
        return false;
    }
    /* A lock per open file: shared readers, one writer, across VMs and
     * processes alike (flock is advisory: other programs may ignore it). */
    if (flock(d->fd, (cfg->readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                        "disk %s: in use: %s (a disk written by one VM is not "
                        "shared with another)", cfg->path,
                        cfg->readonly ? "another VM writes it"
                                      : "another VM has it open");
        else
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: flock: %s", cfg->path,
                        g_strerror(errno));
        return false;
    }
    size = lseek(d->fd, 0, SEEK_END);
    if (size < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: its size: %s", cfg->path,
                    g_strerror(errno));
        return false;
    }
    d->capacity = (uint64_t)size >> SECTOR_SHIFT;
    /* Only files: on a block device fallocate past the end fails whatever
     * the device supports, so the probe could not tell. */
    if (!cfg->readonly && S_ISREG(st.st_mode)) {
        d->discard = falloc_works(d->fd, FALLOC_FL_PUNCH_HOLE, size);
        d->write_zeroes = falloc_works(d->fd, FALLOC_FL_ZERO_RANGE, size);
    }
    if (fcntl(d->fd, F_SETFL, 0) < 0) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "disk %s: fcntl: %s", cfg->path,
                    g_strerror(errno));
        return false;
    }
    return true;
}

void virtio_blk_close(struct virtio_blk_disk *d)
{
    if (d->fd >= 0)
        close(d->fd); /* and its lock */
    d->fd = -1;
    g_clear_pointer(&d->path, g_free);
}

uint64_t virtio_blk_features(const struct virtio_blk_disk *d)
{
    uint64_t f = (1ULL << VIRTIO_BLK_F_SIZE_MAX) | (1ULL << VIRTIO_BLK_F_SEG_MAX) |
                 (1ULL << VIRTIO_BLK_F_BLK_SIZE) | (1ULL << VIRTIO_BLK_F_FLUSH);

    if (d->readonly)
        f |= 1ULL << VIRTIO_BLK_F_RO;
    if (d->discard)
        f |= 1ULL << VIRTIO_BLK_F_DISCARD;
    if (d->write_zeroes)
        f |= 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
    return f;
}

void virtio_blk_fill_config(const struct virtio_blk_disk *d, uint8_t *config)
{
    struct virtio_blk_config c = {
        .capacity = GUINT64_TO_LE(d->capacity),
        .size_max = GUINT32_TO_LE(VIRTIO_BLK_SIZE_MAX),
        .seg_max = GUINT32_TO_LE(VIRTIO_BLK_SEG_MAX),
        .blk_size = GUINT32_TO_LE(VIRTIO_BLK_SECTOR),
    };

    if (d->discard) {
        c.max_discard_sectors = GUINT32_TO_LE(VIRTIO_BLK_DISCARD_SECTORS_MAX);
        c.max_discard_seg = GUINT32_TO_LE(VIRTIO_BLK_DISCARD_SEG_MAX);
        c.discard_sector_alignment = GUINT32_TO_LE(DISCARD_ALIGNMENT_SECTORS);
    }
    if (d->write_zeroes) {
        c.max_write_zeroes_sectors = GUINT32_TO_LE(VIRTIO_BLK_DISCARD_SECTORS_MAX);
        c.max_write_zeroes_seg = GUINT32_TO_LE(VIRTIO_BLK_DISCARD_SEG_MAX);
        c.write_zeroes_may_unmap = d->discard;
    }
    memcpy(config, &c, VIRTIO_BLK_CONFIG_SIZE);
}

/* --- requests ------------------------------------------------------------------ */

/* The bytes [@skip, @skip + @len) of the buffers @iov[0, @n) as at most
 * @max iovecs into @out; their count. */
static unsigned slice(const struct iovec *iov, unsigned n, uint64_t skip, uint64_t len,
                      struct iovec *out)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n && len; i++) {
        uint64_t l = iov[i].iov_len;

        if (skip >= l) {
            skip -= l;
            continue;
        }
        out[k].iov_base = (uint8_t *)iov[i].iov_base + skip;
        out[k].iov_len = MIN(l - skip, len);
        len -= out[k].iov_len;
        skip = 0;
        k++;
    }
    return k;
}

/* All of @iov[0, @n) from or to the image at @offset; false on a host
 * error or an image that ended early (it shrank under the VM). */
static bool transfer(struct virtio_blk_disk *d, struct iovec *iov, unsigned n, uint64_t offset,
                     bool write)
{
    while (n) {
        ssize_t r = write ? pwritev(d->fd, iov, (int)n, (off_t)offset)
                          : preadv(d->fd, iov, (int)n, (off_t)offset);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (!d->logged)
                vmm_log("virtio-blk: %s: %s at byte %" G_GUINT64_FORMAT ": %s; the guest gets "
                        "an I/O error (logged once)", d->path, write ? "write" : "read",
                        offset, r < 0 ? g_strerror(errno) : "the image ended");
            d->logged = true;
            return false;
        }
        offset += r;
        /* Past what was done: whole buffers, then into the next one. */
        while (n && (size_t)r >= iov->iov_len) {
            r -= iov->iov_len;
            iov++;
            n--;
        }
        if (n) {
            iov->iov_base = (uint8_t *)iov->iov_base + r;
            iov->iov_len -= r;
        }
    }
    return true;
}

/* Whether sectors [@sector, @sector + @count) lie below the capacity,
 * without wrapping. */
static bool in_range(const struct virtio_blk_disk *d, uint64_t sector, uint64_t count)
{
    return sector <= d->capacity && count <= d->capacity - sector;
}

static bool host_fallocate(struct virtio_blk_disk *d, int mode, uint64_t sector, uint32_t count)
{
    int r;

    if (!count)
        return true;
    do
        r = fallocate(d->fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)(sector << SECTOR_SHIFT),
                      (off_t)count << SECTOR_SHIFT);
    while (r < 0 && errno == EINTR);
    if (r < 0 && !d->logged) {
        vmm_log("virtio-blk: %s: fallocate: %s; the guest gets an I/O error (logged once)",
                d->path, g_strerror(errno));
        d->logged = true;
    }
    return r == 0;
}

/* Discard or write zeroes: @data holds whole ranges of 16 bytes. */
static uint8_t ranges(struct virtio_blk_disk *d, const struct virtq_chain *chain, uint32_t type,
                      uint64_t len)
{
    unsigned n = len / RANGE_SIZE;

    if (len % RANGE_SIZE || n == 0 || n > VIRTIO_BLK_DISCARD_SEG_MAX)
        return VIRTIO_BLK_S_IOERR;
    for (unsigned i = 0; i < n; i++) {
        struct virtio_blk_discard_write_zeroes r;
        uint64_t sector;
        uint32_t count, flags;
        int mode;

        virtq_chain_read(chain, HEADER_SIZE + (uint64_t)i * RANGE_SIZE, &r, sizeof(r));
        sector = GUINT64_FROM_LE(r.sector);
        count = GUINT32_FROM_LE(r.num_sectors);
        flags = GUINT32_FROM_LE(r.flags);
        /* Discard has no flags; write zeroes may allow unmapping. */
        if (flags & ~(type == VIRTIO_BLK_T_WRITE_ZEROES ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0))
            return VIRTIO_BLK_S_UNSUPP;
        if (count > VIRTIO_BLK_DISCARD_SECTORS_MAX || !in_range(d, sector, count))
            return VIRTIO_BLK_S_IOERR;
        /* A punched hole reads as zeros, so it also writes zeroes when
         * the driver lets the device unmap. */
        if (type == VIRTIO_BLK_T_DISCARD ||
            ((flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && d->discard))
            mode = FALLOC_FL_PUNCH_HOLE;
        else
            mode = FALLOC_FL_ZERO_RANGE;
        if (!host_fallocate(d, mode, sector, count))
            return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

/* Flush: the data written so far reaches the disk (a read-only disk has none). */
static uint8_t flush(struct virtio_blk_disk *d)
{
    int r;

    if (d->readonly)
        return VIRTIO_BLK_S_OK;
    do
        r = fdatasync(d->fd);
    while (r < 0 && errno == EINTR);
    if (r < 0 && !d->logged) {
        vmm_log("virtio-blk: %s: fdatasync: %s; the guest gets an I/O error (logged once)",
                d->path, g_strerror(errno));
        d->logged = true;
    }
    return r == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

/* One request, its status; *@data_written: bytes put in its data buffers. */
static uint8_t serve(struct virtio_blk_disk *d, const struct virtq_chain *chain,
                     uint64_t *data_written)
{
    const struct iovec *in = chain->iov + chain->nr_out;
    struct virtio_blk_outhdr h;
    struct iovec data[VIRTQ_CHAIN_MAX];
    uint64_t out_data, in_data, sector;
    uint32_t type;
    unsigned n;

    *data_written = 0;
    if (chain->out_len < HEADER_SIZE)
        return VIRTIO_BLK_S_IOERR;
    virtq_chain_read(chain, 0, &h, sizeof(h));
    type = GUINT32_FROM_LE(h.type);
    sector = GUINT64_FROM_LE(h.sector);
    out_data = chain->out_len - HEADER_SIZE;  /* the driver's bytes after the header */
    in_data = chain->in_len - 1;              /* room before the status byte */

    switch (type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        bool write = type == VIRTIO_BLK_T_OUT;
        uint64_t len = write ? in_data : out_data; /* must be none: the wrong direction */
        uint64_t bytes = write ? out_data : in_data;

        if (len || bytes % VIRTIO_BLK_SECTOR ||
            !in_range(d, sector, bytes >> SECTOR_SHIFT))
            return VIRTIO_BLK_S_IOERR;
        if (write && d->readonly)
            return VIRTIO_BLK_S_IOERR;
        if (!bytes)
            return VIRTIO_BLK_S_OK;
        n = write ? slice(chain->iov, chain->nr_out, HEADER_SIZE, bytes, data)
                  : slice(in, chain->nr_in, 0, bytes, data);
        if (!transfer(d, data, n, sector << SECTOR_SHIFT, write))
            return VIRTIO_BLK_S_IOERR;
        if (!write)
            *data_written = bytes;
        return VIRTIO_BLK_S_OK;
    }
    case VIRTIO_BLK_T_FLUSH:
        if (out_data || in_data)
            return VIRTIO_BLK_S_IOERR;
        return flush(d);
    case VIRTIO_BLK_T_GET_ID:
        if (out_data || in_data < VIRTIO_BLK_ID_BYTES)
            return VIRTIO_BLK_S_IOERR;
        n = slice(in, chain->nr_in, 0, VIRTIO_BLK_ID_BYTES, data);
        for (unsigned i = 0, at = 0; i < n; at += data[i].iov_len, i++)
            memcpy(data[i].iov_base, d->id + at, data[i].iov_len);
        *data_written = VIRTIO_BLK_ID_BYTES;
        return VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (!(type == VIRTIO_BLK_T_DISCARD ? d->discard : d->write_zeroes))
            return VIRTIO_BLK_S_UNSUPP;
        if (in_data || d->readonly)
            return VIRTIO_BLK_S_IOERR;
        return ranges(d, chain, type, out_data);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

uint32_t virtio_blk_handle(struct virtio_blk_disk *d, const struct virtq_chain *chain)
{
    uint64_t written;
    uint8_t status;

    if (chain->in_len == 0)
        return 0; /* nowhere to say anything */
    status = serve(d, chain, &written);
    virtq_chain_write(chain, chain->in_len - 1, &status, 1);
    return (uint32_t)MIN(written + 1, chain->in_len);
}

/* --- the device ---------------------------------------------------------------- */

struct virtio_blk {
    struct virtio_pci vp;
    struct virtio_blk_disk disk;
    struct virtio_pci_model model;  /* its features are the disk's */
    unsigned generation;            /* transport lock: a reset moves it on */
};

/* The driver reset the device (transport lock held): a request in flight
 * belongs to the queue that was, and is not given back to the new one. */
static void blk_reset(struct virtio_pci *vp)
{
    struct virtio_blk *b = vp->opaque;

    b->generation++;
}

/* Each request with the transport lock released: the disk may be slow,
 * and a vCPU reading the ISR or a register must not wait for it. The
 * queue state is only touched with the lock held; vp->chain is this
 * worker's own. */
static bool queue_notified(struct virtio_pci *vp, unsigned q)
{
    struct virtio_blk *b = vp->opaque;
    unsigned n = 0;

    while (virtio_pci_pop(vp, q, &vp->chain)) {
        unsigned generation = b->generation;
        uint32_t written;

        g_mutex_unlock(&vp->lock);
        written = virtio_blk_handle(&b->disk, &vp->chain);
        g_mutex_lock(&vp->lock);
        if (b->generation != generation)
            return true;
        virtio_pci_push(vp, q, &vp->chain, written);
        virtio_pci_notify(vp, q);
        if (__atomic_load_n(&vp->stopping, __ATOMIC_ACQUIRE))
            return false;
        if (++n == VIRTIO_PCI_CHAINS_PER_PASS) {
            virtio_pci_kick(vp, q); /* another pass, after register accesses */
            return false;
        }
    }
    return true;
}

static bool virtio_blk_realize(struct device *dev, const struct device_ctx *ctx, GError **error)
{
    unsigned i = *(const unsigned *)dev->desc->params;
    struct virtio_blk *b;

    if (i >= ctx->nr_disks)
        return true; /* no disk n: the line stays empty */
    b = g_new0(struct virtio_blk, 1);
    b->disk.fd = -1;
    dev->state = b;
    if (!virtio_blk_open(&b->disk, &ctx->disks[i], error))
        return false;
    b->model = (struct virtio_pci_model){
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .class_code = 0x010000,     /* mass storage, SCSI: as other virtio-blk devices */
        .features = virtio_blk_features(&b->disk),
        .nr_queues = 1,
        .config_size = VIRTIO_BLK_CONFIG_SIZE,
        .thread_kind = VMM_THREAD_BLOCK_IO,
        .queue_notified = queue_notified,
        .reset = blk_reset,
    };
    if (!virtio_pci_realize(&b->vp, &b->model, b, dev, ctx, error))
        return false;
    g_mutex_lock(&b->vp.lock);
    virtio_blk_fill_config(&b->disk, b->vp.config);
    g_mutex_unlock(&b->vp.lock);
    return true;
}

static void virtio_blk_destroy(struct device *dev)
{
    struct virtio_blk *b = dev->state;

    if (b->vp.model)
        virtio_pci_destroy(&b->vp);
    virtio_blk_close(&b->disk);
    g_free(b);
}

const struct device_ops virtio_blk_device = {
    .name = "virtio-blk",
    .realize = virtio_blk_realize,
    .destroy = virtio_blk_destroy,
};
