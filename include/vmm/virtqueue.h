/*
 * Split virtqueues (virtio 1.x, section 2.7) over guest memory, as a device
 * sees them: take the next descriptor chain the driver made available,
 * give it back as used, and decide whether the driver wants an interrupt.
 *
 * The driver is hostile. Every index, address and length it writes is
 * read once, checked, and a chain that breaks a rule (a buffer outside
 * guest RAM or in read-only memory, a loop, an index past the ring, a
 * readable buffer after a writable one, a nested indirect table, more
 * than VIRTQ_CHAIN_MAX buffers, the available index moving by more than
 * the queue size) marks the queue broken: the transport then reports
 * DEVICE_NEEDS_RESET to the driver; vmm never reads or writes outside the
 * guest's RAM. Pure (no KVM, no threads of its own): one device thread
 * owns a queue; the unit tests and fuzz/virtqueue_fuzz.c run it over a
 * fake RAM buffer.
 */
#ifndef VMM_VIRTQUEUE_H
#define VMM_VIRTQUEUE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

/* The largest queue the spec allows, and the most buffers vmm accepts in
 * one chain (direct or through an indirect table): a device that needs
 * fewer says so through its own limits (e.g. virtio-blk's seg_max). */
#define VIRTQ_MAX_SIZE 32768
#define VIRTQ_CHAIN_MAX 1024

struct virtq {
    const struct guest_mem *mem;
    uint16_t size;          /* entries, a power of two; 0 while not set up */
    bool event_idx;         /* VIRTIO_F_EVENT_IDX negotiated */
    bool broken;
    const char *broken_why; /* what the driver did, for the one log line */

    /* The three areas, checked to lie in guest RAM when set up. */
    void *desc;             /* struct vring_desc[size] */
    void *avail;            /* struct vring_avail + ring[size] + used_event */
    void *used;             /* struct vring_used + ring[size] + avail_event */

    uint16_t last_avail;    /* the next available entry the device takes */
    uint16_t used_idx;      /* the device's copy of used->idx */
    uint16_t signalled;     /* used_idx when the driver was last interrupted */
    bool signalled_valid;
};

/* One descriptor chain: the readable buffers (driver to device) first,
 * then the writable ones; each is host memory inside guest RAM. */
struct virtq_chain {
    uint16_t head;
    unsigned nr_out, nr_in;
    uint64_t out_len, in_len;
    struct iovec iov[VIRTQ_CHAIN_MAX]; /* [0, nr_out) readable, then nr_in writable */
};

/* Checks the driver's queue set-up (size a power of two up to
 * VIRTQ_MAX_SIZE, each area aligned as the spec requires and wholly in
 * guest RAM, the used ring writable) and starts the queue from index 0.
 * The error names the first thing wrong. */
bool virtq_setup(struct virtq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
                 uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, GError **error);
/* Forgets the queue (device reset). */
void virtq_reset(struct virtq *q);

enum virtq_pop_result {
    VIRTQ_BROKEN = -1,      /* now or before: q->broken_why says why */
    VIRTQ_EMPTY = 0,
    VIRTQ_CHAIN = 1,        /* @chain holds the next chain */
};
enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *chain);

/* Returns @chain to the driver with @written bytes written into its
 * writable buffers (at most their total: a larger count is clamped). */
void virtq_push(struct virtq *q, const struct virtq_chain *chain, uint32_t written);

/* After pushes: whether the driver asked to be interrupted for them
 * (VRING_AVAIL_F_NO_INTERRUPT, or its used_event with event index). */
bool virtq_should_notify(struct virtq *q);

/* Before the device thread waits for a kick: asks the driver to notify on
 * its next buffer (the avail_event with event index, else clearing
 * VRING_USED_F_NO_NOTIFY). True when buffers arrived meanwhile (pop
 * again rather than wait). virtq_disable_notify asks for no kicks while
 * the device is busy draining the queue anyway. */
bool virtq_enable_notify(struct virtq *q);
void virtq_disable_notify(struct virtq *q);

/* Copies up to @len bytes of the chain's readable buffers from @offset
 * into @dst (or @src into its writable buffers); the count copied. */
size_t virtq_chain_read(const struct virtq_chain *chain, uint64_t offset, void *dst, size_t len);
size_t virtq_chain_write(const struct virtq_chain *chain, uint64_t offset, const void *src,
                         size_t len);

#endif
