/*
 * Split virtqueues (vmm/virtqueue.h). The rings live in guest RAM that
 * the guest's vCPUs write while we read: every field is loaded exactly
 * once (atomic loads, so the compiler cannot fetch it again after the
 * check) and the available index with acquire order, so the entries it
 * covers are read after it.
 */
#include <linux/virtio_ring.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/virtqueue.h"

/* Sizes of the three areas for a queue of @n entries (spec 2.7). */
#define DESC_BYTES(n) (16ULL * (n))
#define AVAIL_BYTES(n) (6ULL + 2ULL * (n))
#define USED_BYTES(n) (6ULL + 8ULL * (n))

static inline uint16_t load16(const void *p)
{
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED);
}

static inline void store16(void *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELAXED);
}

static inline void store32(void *p, uint32_t v)
{
    __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELAXED);
}

/* A descriptor, copied once. The main table is 16-byte aligned; an
 * indirect table need not be, so its entries are copied byte by byte
 * through a volatile pointer (still one read of each byte). */
static void load_desc(const void *table, uint32_t i, bool aligned, struct vring_desc *d)
{
    const uint8_t *src = (const uint8_t *)table + 16ULL * i;

    if (aligned) {
        d->addr = __atomic_load_n((const uint64_t *)src, __ATOMIC_RELAXED);
        d->len = __atomic_load_n((const uint32_t *)(src + 8), __ATOMIC_RELAXED);
        d->flags = __atomic_load_n((const uint16_t *)(src + 12), __ATOMIC_RELAXED);
        d->next = __atomic_load_n((const uint16_t *)(src + 14), __ATOMIC_RELAXED);
    } else {
        const volatile uint8_t *v = src;
        uint8_t b[16];

        for (unsigned k = 0; k < sizeof(b); k++)
            b[k] = v[k];
        memcpy(d, b, sizeof(b));
    }
}

static bool area(const struct guest_mem *mem, uint64_t gpa, uint64_t len, uint64_t align,
                 bool writable, const char *name, void **hva, GError **error)
{
    if (gpa & (align - 1)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "virtqueue %s at %#" G_GINT64_MODIFIER "x is not %" G_GUINT64_FORMAT
                    "-byte aligned", name, gpa, align);
        return false;
    }
    *hva = writable ? gpa_to_hva_writable(mem, gpa, len) : gpa_to_hva(mem, gpa, len);
    if (!*hva) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "virtqueue %s: %" G_GUINT64_FORMAT " bytes at %#" G_GINT64_MODIFIER "x "
                    "lie outside guest RAM%s", name, len, gpa, writable ? " (or in read-only memory)" : "");
        return false;
    }
    return true;
}

bool virtq_setup(struct virtq *q, const struct guest_mem *mem, uint16_t size, uint64_t desc_gpa,
                 uint64_t avail_gpa, uint64_t used_gpa, bool event_idx, GError **error)
{
    virtq_reset(q);
    if (size == 0 || (size & (size - 1)) || size > VIRTQ_MAX_SIZE) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "virtqueue size %u is not a power of two up to %u", size, VIRTQ_MAX_SIZE);
        return false;
    }
    if (!area(mem, desc_gpa, DESC_BYTES(size), 16, false, "descriptor table", &q->desc, error) ||
        !area(mem, avail_gpa, AVAIL_BYTES(size), 2, false, "available ring", &q->avail, error) ||
        !area(mem, used_gpa, USED_BYTES(size), 4, true, "used ring", &q->used, error)) {
        virtq_reset(q);
        return false;
    }
    q->mem = mem;
    q->size = size;
    q->event_idx = event_idx;
    return true;
}

void virtq_reset(struct virtq *q)
{
    memset(q, 0, sizeof(*q));
}

static enum virtq_pop_result broken(struct virtq *q, const char *why)
{
    if (!q->broken) {
        q->broken = true;
        q->broken_why = why;
    }
    return VIRTQ_BROKEN;
}

/* Appends descriptor @d's buffer to @chain: the rule check of one link. */
static const char *add_buffer(struct virtq *q, struct virtq_chain *chain,
                              const struct vring_desc *d)
{
    bool writable = d->flags & VRING_DESC_F_WRITE;
    void *hva;

    if (chain->nr_out + chain->nr_in >= VIRTQ_CHAIN_MAX)
        return "a descriptor chain has more buffers than vmm accepts";
    if (!writable && chain->nr_in)
        return "a readable buffer follows a writable one";
    hva = writable ? gpa_to_hva_writable(q->mem, d->addr, d->len)
                   : gpa_to_hva(q->mem, d->addr, d->len);
    if (!hva)
        return writable ? "a writable buffer lies outside guest RAM or in read-only memory"
                        : "a buffer lies outside guest RAM";
    chain->iov[chain->nr_out + chain->nr_in] =
        (struct iovec){ .iov_base = hva, .iov_len = d->len };
    if (writable) {
        chain->nr_in++;
        chain->in_len += d->len;
    } else {
        chain->nr_out++;
        chain->out_len += d->len;
    }
    return NULL;
}

enum virtq_pop_result virtq_pop(struct virtq *q, struct virtq_chain *chain)
{
    const struct vring_avail *avail = q->avail;
    const void *table = q->desc;
    uint32_t table_size, i, seen = 0;
    bool aligned = true;
    struct vring_desc d;
    uint16_t avail_idx;
    const char *why;

    if (q->broken)
        return VIRTQ_BROKEN;
    if (!q->size)
        return VIRTQ_EMPTY;
    avail_idx = __atomic_load_n(&avail->idx, __ATOMIC_ACQUIRE);
    if (avail_idx == q->last_avail)
        return VIRTQ_EMPTY;
    if ((uint16_t)(avail_idx - q->last_avail) > q->size)
        return broken(q, "the available index moved by more than the queue size");

    chain->head = load16(&avail->ring[q->last_avail & (q->size - 1)]);
    chain->nr_out = chain->nr_in = 0;
    chain->out_len = chain->in_len = 0;
    if (chain->head >= q->size)
        return broken(q, "an available entry names a descriptor past the table");

    table_size = q->size;
    i = chain->head;
    load_desc(table, i, true, &d);
    if (d.flags & VRING_DESC_F_INDIRECT) {
        /* Spec 2.7.5.3: the only descriptor of its chain, never chained on. */
        if (d.flags & VRING_DESC_F_NEXT)
            return broken(q, "an indirect descriptor has NEXT set");
        if (d.len == 0 || d.len % 16 || d.len / 16 > VIRTQ_CHAIN_MAX)
            return broken(q, "an indirect table's length is not 16 to 16 x 1024 bytes in 16s");
        table = gpa_to_hva(q->mem, d.addr, d.len);
        if (!table)
            return broken(q, "an indirect table lies outside guest RAM");
        table_size = d.len / 16;
        aligned = (d.addr & 15) == 0;
        i = 0;
        load_desc(table, i, aligned, &d);
    }
    for (;;) {
        if (d.flags & VRING_DESC_F_INDIRECT)
            return broken(q, table == q->desc ? "an indirect descriptor is not a chain's head"
                                              : "an indirect table holds an indirect descriptor");
        why = add_buffer(q, chain, &d);
        if (why)
            return broken(q, why);
        if (!(d.flags & VRING_DESC_F_NEXT))
            break;
        /* A chain visits each entry at most once: more links is a loop. */
        if (++seen >= table_size)
            return broken(q, "a descriptor chain loops");
        i = d.next;
        if (i >= table_size)
            return broken(q, "a descriptor's next index lies past its table");
        load_desc(table, i, aligned, &d);
    }
    q->last_avail++;
    return VIRTQ_CHAIN;
}

void virtq_push(struct virtq *q, const struct virtq_chain *chain, uint32_t written)
{
    struct vring_used *used = q->used;
    struct vring_used_elem *e;

    if (!q->size)
        return;
    if (written > chain->in_len)
        written = (uint32_t)chain->in_len;
    e = &used->ring[q->used_idx & (q->size - 1)];
    store32(&e->id, chain->head);
    store32(&e->len, written);
    q->used_idx++;
    /* The entry is visible before the index that covers it. */
    __atomic_store_n(&used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_should_notify(struct virtq *q)
{
    const struct vring_avail *avail = q->avail;
    uint16_t old = q->signalled, used_event;
    bool valid = q->signalled_valid;

    if (!q->size)
        return false;
    /* Our used->idx store is ordered before the driver's flags or
     * used_event are read (the driver does the mirror image). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx)
        return !(load16(&avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
    q->signalled = q->used_idx;
    q->signalled_valid = true;
    used_event = load16(&avail->ring[q->size]);
    return !valid || vring_need_event(used_event, q->used_idx, old);
}

static void set_notify(struct virtq *q, bool on)
{
    struct vring_used *used = q->used;

    if (q->event_idx) {
        if (on)
            store16(&used->ring[q->size], q->last_avail); /* avail_event */
    } else {
        store16(&used->flags, on ? 0 : VRING_USED_F_NO_NOTIFY);
    }
}

bool virtq_enable_notify(struct virtq *q)
{
    if (!q->size || q->broken)
        return false;
    set_notify(q, true);
    /* The request is visible before we look for buffers it would miss. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&((const struct vring_avail *)q->avail)->idx, __ATOMIC_ACQUIRE) !=
           q->last_avail;
}

void virtq_disable_notify(struct virtq *q)
{
    if (q->size && !q->event_idx)
        set_notify(q, false);
}

/* Copies between a flat buffer and @n iovecs from byte @offset on. */
static size_t iov_copy(const struct iovec *iov, unsigned n, uint64_t offset, void *flat,
                       size_t len, bool to_iov)
{
    size_t done = 0;

    for (unsigned k = 0; k < n && done < len; k++) {
        size_t take;

        if (offset >= iov[k].iov_len) {
            offset -= iov[k].iov_len;
            continue;
        }
        take = MIN(iov[k].iov_len - offset, len - done);
        if (to_iov)
            memcpy((uint8_t *)iov[k].iov_base + offset, (uint8_t *)flat + done, take);
        else
            memcpy((uint8_t *)flat + done, (uint8_t *)iov[k].iov_base + offset, take);
        done += take;
        offset = 0;
    }
    return done;
}

size_t virtq_chain_read(const struct virtq_chain *chain, uint64_t offset, void *dst, size_t len)
{
    return iov_copy(chain->iov, chain->nr_out, offset, dst, len, false);
}

size_t virtq_chain_write(const struct virtq_chain *chain, uint64_t offset, const void *src,
                         size_t len)
{
    return iov_copy(chain->iov + chain->nr_out, chain->nr_in, offset, (void *)src, len, true);
}
