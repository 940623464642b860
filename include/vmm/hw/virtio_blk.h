/*
 * virtio-blk over PCI (src/devices/virtio_blk.c): a raw image file or
 * block device as a disk (virtio 1.x section 5.2). The machine tables
 * have VMM_MAX_DISKS lines of it (VIRTIO_BLK_LINE): line n takes the VM's
 * disk n (struct device_ctx's disks) and stays empty when there is none.
 *
 * The image is opened when the VM is built (before any seccomp list or
 * worker sandbox): a regular file or a block device only, read-only
 * (O_RDONLY, a shared flock) or read-write (an exclusive flock), so two
 * VMs never write one image. Requests are served on the transport's
 * worker thread with the transport lock released (a vCPU never waits for
 * the disk), data moving with preadv/pwritev between guest RAM and the
 * file.
 */
#ifndef VMM_HW_VIRTIO_BLK_H
#define VMM_HW_VIRTIO_BLK_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/device.h"
#include "vmm/virtqueue.h"

extern const struct device_ops virtio_blk_device;

/* A machine line's params: &virtio_blk_disk_index[n] takes disk n. */
extern const unsigned virtio_blk_disk_index[VMM_MAX_DISKS];
#define VIRTIO_BLK_LINE(slot, irq, n) \
    { &virtio_blk_device, (slot), 0, (irq), DEVICE_BOOT_LINUX, &virtio_blk_disk_index[n] }
/* The disks' lines of both machines: PCI slots 3-10, each on its slot's
 * INTA (@inta: the machine's PCI_INTA(slot)). */
#define VIRTIO_BLK_LINES(inta) \
    VIRTIO_BLK_LINE(3, inta(3), 0), VIRTIO_BLK_LINE(4, inta(4), 1), \
    VIRTIO_BLK_LINE(5, inta(5), 2), VIRTIO_BLK_LINE(6, inta(6), 3), \
    VIRTIO_BLK_LINE(7, inta(7), 4), VIRTIO_BLK_LINE(8, inta(8), 5), \
    VIRTIO_BLK_LINE(9, inta(9), 6), VIRTIO_BLK_LINE(10, inta(10), 7)
G_STATIC_ASSERT(VMM_MAX_DISKS == 8); /* one line each in VIRTIO_BLK_LINES */

#define VIRTIO_BLK_SECTOR 512
/* The device configuration vmm fills: struct virtio_blk_config up to
 * write_zeroes_may_unmap and its padding (no secure erase, no zones). */
#define VIRTIO_BLK_CONFIG_SIZE 60
/* What the driver is told (config seg_max, size_max, discard and write
 * zeroes limits); a request beyond them still works or gets IOERR. */
#define VIRTIO_BLK_SEG_MAX 254          /* data buffers a request: a queue of 256 less 2 */
#define VIRTIO_BLK_SIZE_MAX (1u << 20)  /* bytes a data buffer */
#define VIRTIO_BLK_DISCARD_SEG_MAX 32   /* ranges in one discard or write-zeroes request */
#define VIRTIO_BLK_DISCARD_SECTORS_MAX (1u << 22) /* sectors a range (2 GiB) */

/* An open image: the part of the device the unit tests drive alone. */
struct virtio_blk_disk {
    int fd;
    char *path;               /* for messages */
    uint64_t capacity;        /* sectors: the size / 512, a shorter tail unused */
    bool readonly;
    bool discard;             /* fallocate(PUNCH_HOLE) works on it (read-write files) */
    bool write_zeroes;        /* fallocate(ZERO_RANGE) works on it (the same) */
    uint8_t id[VMM_DISK_SERIAL_MAX]; /* GET_ID's answer: the serial, NUL-padded */
    bool logged;              /* one log line for a host I/O error in the device's life */
};

/* Opens, checks, locks and probes @cfg's image; the error names the path. */
bool virtio_blk_open(struct virtio_blk_disk *d, const struct device_disk *cfg, GError **error);
void virtio_blk_close(struct virtio_blk_disk *d);
/* The device feature bits (VIRTIO_BLK_F_*) the disk offers. */
uint64_t virtio_blk_features(const struct virtio_blk_disk *d);
/* Its device configuration, VIRTIO_BLK_CONFIG_SIZE bytes, little-endian. */
void virtio_blk_fill_config(const struct virtio_blk_disk *d, uint8_t *config);
/* Serves one request chain: checks it as hostile input, does the I/O,
 * writes the status byte (the chain's last writable byte); returns the
 * bytes written into the chain (0 when it has no writable byte at all). */
uint32_t virtio_blk_handle(struct virtio_blk_disk *d, const struct virtq_chain *chain);

#endif
