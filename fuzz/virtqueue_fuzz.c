// fuzz-sources: src/virtio/virtqueue.c src/core/guest_mem.c src/base/error.c
// fuzz-includes: include fuzz
// fuzz-pkgs: glib-2.0
// fuzz-options: -max_len=4096
/*
 * libFuzzer target: a split virtqueue (src/virtio/virtqueue.c) driven by a
 * hostile driver. Guest memory is a RAM and a read-only region, each a
 * heap buffer of its exact size so ASan sees any host access past them.
 * The input sets the queue up (sizes and ring addresses, valid-looking or
 * raw), then is a script of driver and device steps: the driver writes
 * descriptors, offers chains and scribbles on any byte of RAM (also
 * between the device's steps); the device pops, pushes, copies, asks
 * whether to notify. After every pop the chain is checked: each buffer
 * lies in guest memory (a writable one in RAM only), the counts and
 * lengths agree, and a broken queue stays broken.
 */
#include <linux/virtio_ring.h>

#include "vmm/virtqueue.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_GPA 0x10000ULL
#define RAM_SIZE 0x10000ULL
#define ROM_GPA 0x40000ULL
#define ROM_SIZE 0x1000ULL

enum op { OP_SCRIBBLE, OP_DESC, OP_OFFER, OP_POP, OP_PUSH, OP_NOTIFY, OP_ENABLE, OP_DISABLE,
          OP_READ, OP_WRITE, NR_OPS };

static bool inside(const void *p, size_t len, const uint8_t *base, size_t size)
{
    const uint8_t *b = p;

    return b >= base && b <= base + size && len <= (size_t)(base + size - b);
}

static uint64_t pick_gpa(struct fuzz_input *in)
{
    switch (fuzz_u8(in) % 4) {
    case 0: return RAM_GPA + fuzz_u16(in) % RAM_SIZE;
    case 1: return ROM_GPA + fuzz_u16(in) % ROM_SIZE;
    case 2: return RAM_GPA + (fuzz_u16(in) % RAM_SIZE & ~15ULL);
    default: return fuzz_u64(in);
    }
}

static void check_chain(const struct virtq *q, const struct virtq_chain *c, const uint8_t *ram,
                        const uint8_t *rom)
{
    uint64_t out = 0, in = 0;

    FUZZ_CHECK(c->head < q->size);
    FUZZ_CHECK(c->nr_out + c->nr_in <= VIRTQ_CHAIN_MAX);
    for (unsigned i = 0; i < c->nr_out + c->nr_in; i++) {
        const struct iovec *v = &c->iov[i];
        bool writable = i >= c->nr_out;

        FUZZ_CHECK(inside(v->iov_base, v->iov_len, ram, RAM_SIZE) ||
                   (!writable && inside(v->iov_base, v->iov_len, rom, ROM_SIZE)));
        *(writable ? &in : &out) += v->iov_len;
    }
    FUZZ_CHECK(out == c->out_len && in == c->in_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = { .data = data, .size = size };
    uint8_t *ram = calloc(1, RAM_SIZE), *rom = calloc(1, ROM_SIZE);
    struct virtq_chain *chain = malloc(sizeof(*chain));
    struct guest_mem mem = { .nr = 2 };
    bool have_chain = false, event_idx;
    uint8_t flags, scratch[512];
    uint64_t desc, avail, used;
    struct virtq q;
    uint16_t qsize;

    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    mem.regions[1] = (struct mem_region){ .gpa = ROM_GPA, .size = ROM_SIZE, .hva = rom,
                                          .readonly = true };
    mem.ram = &mem.regions[0];

    flags = fuzz_u8(&in);
    event_idx = flags & 1;
    qsize = flags & 2 ? fuzz_u16(&in) : 1U << (fuzz_u8(&in) % 9);
    desc = pick_gpa(&in);
    avail = pick_gpa(&in);
    used = pick_gpa(&in);
    if (!virtq_setup(&q, &mem, qsize, desc, avail, used, event_idx, NULL))
        FUZZ_CHECK(q.size == 0);

    while (fuzz_more(&in)) {
        enum op op = fuzz_u8(&in) % NR_OPS;
        enum virtq_pop_result r;

        switch (op) {
        case OP_SCRIBBLE: {
            uint16_t off = fuzz_u16(&in) % RAM_SIZE;
            uint8_t n = fuzz_u8(&in) % 17;

            fuzz_bytes(&in, scratch, n);
            memcpy(ram + off, scratch, MIN((size_t)n, RAM_SIZE - off));
            break;
        }
        case OP_DESC: {
            uint16_t i = fuzz_u16(&in);
            struct vring_desc d = { .addr = pick_gpa(&in) };

            d.len = fuzz_u8(&in) & 1 ? fuzz_u32(&in) : fuzz_u8(&in);
            d.flags = fuzz_u8(&in) & 7;
            d.next = fuzz_u16(&in);
            if (q.size)
                memcpy((struct vring_desc *)q.desc + i % q.size, &d, sizeof(d));
            break;
        }
        case OP_OFFER: {
            uint16_t head = fuzz_u16(&in);
            struct vring_avail *a = q.avail;

            if (q.size) {
                memcpy(&a->ring[a->idx % q.size], &head, 2);
                a->idx += fuzz_u8(&in) & 1 ? 1 : fuzz_u8(&in);
            }
            break;
        }
        case OP_POP: {
            bool was_broken = q.broken;

            r = virtq_pop(&q, chain);
            FUZZ_CHECK(!was_broken || r == VIRTQ_BROKEN);
            FUZZ_CHECK((r == VIRTQ_BROKEN) == q.broken);
            FUZZ_CHECK(r != VIRTQ_BROKEN || q.broken_why);
            have_chain = r == VIRTQ_CHAIN;
            if (have_chain)
                check_chain(&q, chain, ram, rom);
            break;
        }
        case OP_PUSH:
            if (have_chain) {
                uint16_t before = q.used_idx;

                virtq_push(&q, chain, fuzz_u32(&in));
                FUZZ_CHECK(q.used_idx == (uint16_t)(before + 1));
                FUZZ_CHECK(((struct vring_used *)q.used)->idx == q.used_idx);
            }
            break;
        case NR_OPS:
            break;
        case OP_NOTIFY:
            virtq_should_notify(&q);
            break;
        case OP_ENABLE:
            virtq_enable_notify(&q);
            break;
        case OP_DISABLE:
            virtq_disable_notify(&q);
            break;
        case OP_READ:
        case OP_WRITE:
            if (have_chain) {
                uint16_t off = fuzz_u16(&in), len = fuzz_u16(&in) % sizeof(scratch);
                size_t n = op == OP_READ
                               ? virtq_chain_read(chain, off, scratch, len)
                               : virtq_chain_write(chain, off, scratch, len);

                FUZZ_CHECK(n <= len);
            }
            break;
        }
    }
    free(chain);
    free(rom);
    free(ram);
    return 0;
}
