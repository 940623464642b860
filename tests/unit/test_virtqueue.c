/*
 * Split virtqueues (src/virtio/virtqueue.c) as a hostile driver would set
 * them up: the device sees every well-formed chain as written, and every
 * chain that breaks a rule breaks the queue (never a host access outside
 * guest RAM; ASan would see one in this fake RAM).
 */
#include <linux/virtio_ring.h>
#include <stdlib.h>

#include "vmm/virtqueue.h"
#include "unit.h"

#define RAM_GPA 0x10000ULL
#define RAM_SIZE 0x100000ULL
#define ROM_GPA 0x200000ULL
#define ROM_SIZE 0x10000ULL
#define QSIZE 8
#define DESC_GPA (RAM_GPA + 0x1000)
#define AVAIL_GPA (RAM_GPA + 0x2000)
#define USED_GPA (RAM_GPA + 0x3000)
#define BUF_GPA (RAM_GPA + 0x10000)

static struct guest_mem mem;
static uint8_t *ram, *rom;
static struct virtq q;
static struct virtq_chain *chain;

static void *at(uint64_t gpa)
{
    return ram + (gpa - RAM_GPA);
}

static struct vring_desc *desc(unsigned i)
{
    return (struct vring_desc *)at(DESC_GPA) + i;
}

static struct vring_avail *avail(void)
{
    return at(AVAIL_GPA);
}

static struct vring_used *used(void)
{
    return at(USED_GPA);
}

static void set_desc(struct vring_desc *d, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    *d = (struct vring_desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

/* The driver makes chain @head available. */
static void offer(uint16_t head)
{
    avail()->ring[avail()->idx % QSIZE] = head;
    avail()->idx++;
}

static void setup(void)
{
    GError *err = NULL;

    ram = calloc(1, RAM_SIZE);
    rom = calloc(1, ROM_SIZE);
    mem = (struct guest_mem){ .nr = 2 };
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    mem.regions[1] = (struct mem_region){ .gpa = ROM_GPA, .size = ROM_SIZE, .hva = rom,
                                          .readonly = true };
    mem.ram = &mem.regions[0];
    chain = calloc(1, sizeof(*chain));
    ck_assert(virtq_setup(&q, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, false, &err));
}

static void teardown(void)
{
    free(ram);
    free(rom);
    free(chain);
}

static void assert_broken(const char *why)
{
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_BROKEN);
    ck_assert_ptr_nonnull(q.broken_why);
    ck_assert_msg(strstr(q.broken_why, why), "broken because \"%s\", expected \"%s\"",
                  q.broken_why, why);
    /* Broken stays broken, whatever the driver does next. */
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_BROKEN);
}

START_TEST(setup_checks)
{
    struct virtq v;
    GError *err = NULL;
    static const struct { uint16_t size; uint64_t d, a, u; const char *msg; } bad[] = {
        { 0, DESC_GPA, AVAIL_GPA, USED_GPA, "power of two" },
        { 3, DESC_GPA, AVAIL_GPA, USED_GPA, "power of two" },
        { 8, DESC_GPA + 8, AVAIL_GPA, USED_GPA, "16-byte aligned" },
        { 8, DESC_GPA, AVAIL_GPA + 1, USED_GPA, "2-byte aligned" },
        { 8, DESC_GPA, AVAIL_GPA, USED_GPA + 2, "4-byte aligned" },
        { 8, RAM_GPA + RAM_SIZE - 64, AVAIL_GPA, USED_GPA, "outside guest RAM" },
        { 8, UINT64_MAX - 15, AVAIL_GPA, USED_GPA, "outside guest RAM" },
        { 8, DESC_GPA, AVAIL_GPA, ROM_GPA, "read-only" },
        { 32768, RAM_GPA + 0x90000, AVAIL_GPA, USED_GPA, "outside guest RAM" },
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        ck_assert(!virtq_setup(&v, &mem, bad[i].size, bad[i].d, bad[i].a, bad[i].u, false, &err));
        ck_assert_msg(strstr(err->message, bad[i].msg), "case %u: %s", i, err->message);
        ck_assert_int_eq(v.size, 0);
        ck_assert_int_eq(virtq_pop(&v, chain), VIRTQ_EMPTY);
        g_clear_error(&err);
    }
    /* Rings may be read from read-only memory; only the used ring is written. */
    ck_assert(virtq_setup(&v, &mem, 8, ROM_GPA, ROM_GPA + 0x1000, USED_GPA, true, &err));
}
END_TEST

START_TEST(one_chain_round_trip)
{
    set_desc(desc(3), BUF_GPA, 10, VRING_DESC_F_NEXT, 5);
    set_desc(desc(5), BUF_GPA + 0x100, 20, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 6);
    set_desc(desc(6), BUF_GPA + 0x200, 30, VRING_DESC_F_WRITE, 0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_EMPTY);
    offer(3);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    ck_assert_int_eq(chain->head, 3);
    ck_assert_int_eq(chain->nr_out, 1);
    ck_assert_int_eq(chain->nr_in, 2);
    ck_assert_int_eq(chain->out_len, 10);
    ck_assert_int_eq(chain->in_len, 50);
    ck_assert_ptr_eq(chain->iov[0].iov_base, at(BUF_GPA));
    ck_assert_ptr_eq(chain->iov[2].iov_base, at(BUF_GPA + 0x200));
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_EMPTY);

    /* A written count past the writable buffers is clamped. */
    virtq_push(&q, chain, 1000);
    ck_assert_int_eq(used()->idx, 1);
    ck_assert_int_eq(used()->ring[0].id, 3);
    ck_assert_int_eq(used()->ring[0].len, 50);
}
END_TEST

START_TEST(indices_wrap)
{
    set_desc(desc(0), BUF_GPA, 4, 0, 0);
    avail()->idx = 65533;
    q.last_avail = 65533;
    q.used_idx = 65533;
    for (int k = 0; k < 6; k++) {
        offer(0);
        ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
        virtq_push(&q, chain, 0);
    }
    ck_assert_int_eq(q.last_avail, 3);
    ck_assert_int_eq(used()->idx, 3);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_EMPTY);
}
END_TEST

START_TEST(avail_index_jumps)
{
    avail()->idx = QSIZE + 1;
    assert_broken("more than the queue size");
}
END_TEST

START_TEST(head_past_table)
{
    offer(QSIZE);
    assert_broken("past the table");
}
END_TEST

START_TEST(next_past_table)
{
    set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_NEXT, QSIZE);
    offer(0);
    assert_broken("next index lies past");
}
END_TEST

START_TEST(chain_loops)
{
    set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_NEXT, 1);
    set_desc(desc(1), BUF_GPA, 4, VRING_DESC_F_NEXT, 0);
    offer(0);
    assert_broken("loops");
}
END_TEST

START_TEST(chain_of_every_descriptor)
{
    for (unsigned i = 0; i < QSIZE; i++)
        set_desc(desc(i), BUF_GPA, 4, i + 1 < QSIZE ? VRING_DESC_F_NEXT : 0, i + 1);
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    ck_assert_int_eq(chain->nr_out, QSIZE);
}
END_TEST

START_TEST(buffer_outside_ram)
{
    static const struct { uint64_t addr; uint32_t len; } bad[] = {
        { RAM_GPA + RAM_SIZE - 8, 16 },     /* runs off the end */
        { UINT64_MAX - 7, 16 },              /* wraps past 2^64 */
        { RAM_GPA - 4, 8 },                  /* starts before */
        { ROM_GPA + ROM_SIZE, 1 },           /* between regions */
    };

    set_desc(desc(0), bad[_i].addr, bad[_i].len, 0, 0);
    offer(0);
    assert_broken("outside guest RAM");
}
END_TEST

START_TEST(writable_in_rom)
{
    set_desc(desc(0), ROM_GPA, 16, 0, 0); /* readable ROM is fine */
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    set_desc(desc(0), ROM_GPA, 16, VRING_DESC_F_WRITE, 0);
    offer(0);
    assert_broken("read-only");
}
END_TEST

START_TEST(readable_after_writable)
{
    set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
    set_desc(desc(1), BUF_GPA, 4, 0, 0);
    offer(0);
    assert_broken("readable buffer follows a writable");
}
END_TEST

/* An indirect table at @gpa of @n descriptors: readable, then one writable. */
static void indirect_table(uint64_t gpa, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct vring_desc d = { .addr = BUF_GPA + 16 * i, .len = 16,
                                .flags = i + 1 < n ? VRING_DESC_F_NEXT : VRING_DESC_F_WRITE,
                                .next = i + 1 };
        memcpy(at(gpa + 16ULL * i), &d, sizeof(d));
    }
}

START_TEST(indirect_chain)
{
    /* Not 16-byte aligned: allowed, read byte by byte. */
    uint64_t table = BUF_GPA + 0x8003;

    indirect_table(table, 3);
    set_desc(desc(2), table, 3 * 16, VRING_DESC_F_INDIRECT, 0);
    offer(2);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    ck_assert_int_eq(chain->head, 2);
    ck_assert_int_eq(chain->nr_out, 2);
    ck_assert_int_eq(chain->nr_in, 1);
    ck_assert_ptr_eq(chain->iov[2].iov_base, at(BUF_GPA + 32));
}
END_TEST

START_TEST(indirect_largest)
{
    uint64_t table = BUF_GPA + 0x8000;

    indirect_table(table, VIRTQ_CHAIN_MAX);
    set_desc(desc(0), table, VIRTQ_CHAIN_MAX * 16, VRING_DESC_F_INDIRECT, 0);
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    ck_assert_int_eq(chain->nr_out + chain->nr_in, VIRTQ_CHAIN_MAX);
}
END_TEST

START_TEST(indirect_rules)
{
    uint64_t table = BUF_GPA + 0x8000;
    struct vring_desc nested = { .addr = table, .len = 16, .flags = VRING_DESC_F_INDIRECT };

    switch (_i) {
    case 0: /* too long */
        set_desc(desc(0), table, (VIRTQ_CHAIN_MAX + 1) * 16, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("indirect table's length");
        break;
    case 1: /* not a whole number of descriptors */
        set_desc(desc(0), table, 24, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("indirect table's length");
        break;
    case 2: /* NEXT set as well */
        indirect_table(table, 2);
        set_desc(desc(0), table, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
        offer(0);
        assert_broken("NEXT");
        break;
    case 3: /* nested */
        memcpy(at(table), &nested, sizeof(nested));
        set_desc(desc(0), table, 16, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("holds an indirect");
        break;
    case 4: /* not the head */
        indirect_table(table, 2);
        set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_NEXT, 1);
        set_desc(desc(1), table, 32, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("not a chain's head");
        break;
    case 5: /* a loop inside the table */
        indirect_table(table, 2);
        ((struct vring_desc *)at(table))[1].flags = VRING_DESC_F_NEXT;
        ((struct vring_desc *)at(table))[1].next = 0;
        set_desc(desc(0), table, 32, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("loops");
        break;
    case 6: /* the table outside RAM */
        set_desc(desc(0), UINT64_MAX - 15, 32, VRING_DESC_F_INDIRECT, 0);
        offer(0);
        assert_broken("outside guest RAM");
        break;
    }
}
END_TEST

START_TEST(notify_flags)
{
    set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_WRITE, 0);
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    virtq_push(&q, chain, 4);
    ck_assert(virtq_should_notify(&q));
    avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
    ck_assert(!virtq_should_notify(&q));

    virtq_disable_notify(&q);
    ck_assert_int_eq(used()->flags, VRING_USED_F_NO_NOTIFY);
    ck_assert(!virtq_enable_notify(&q));
    ck_assert_int_eq(used()->flags, 0);
    offer(0);
    ck_assert(virtq_enable_notify(&q)); /* arrived meanwhile: pop, don't wait */
}
END_TEST

START_TEST(notify_event_idx)
{
    GError *err = NULL;
    uint16_t *used_event, *avail_event;

    ck_assert(virtq_setup(&q, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, true, &err));
    used_event = &avail()->ring[QSIZE];
    avail_event = (uint16_t *)&used()->ring[QSIZE];
    set_desc(desc(0), BUF_GPA, 4, VRING_DESC_F_WRITE, 0);

    /* The driver wants an interrupt once entry 1 is used (used_event = 1). */
    *used_event = 1;
    for (int k = 0; k < 3; k++) {
        offer(0);
        ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    }
    virtq_push(&q, chain, 4);
    ck_assert(virtq_should_notify(&q)); /* the first time, always */
    virtq_push(&q, chain, 4);           /* used idx 1 -> 2 crosses used_event 1 */
    ck_assert(virtq_should_notify(&q));
    virtq_push(&q, chain, 4);           /* 2 -> 3: not asked for */
    ck_assert(!virtq_should_notify(&q));

    ck_assert(!virtq_enable_notify(&q));
    ck_assert_int_eq(*avail_event, 3);
}
END_TEST

START_TEST(chain_copies)
{
    uint8_t out[40], in[64];

    for (unsigned i = 0; i < 30; i++)
        ((uint8_t *)at(BUF_GPA))[i] = i;
    set_desc(desc(0), BUF_GPA, 10, VRING_DESC_F_NEXT, 1);
    set_desc(desc(1), BUF_GPA + 10, 20, VRING_DESC_F_NEXT, 2);
    set_desc(desc(2), BUF_GPA + 0x100, 8, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 3);
    set_desc(desc(3), BUF_GPA + 0x200, 8, VRING_DESC_F_WRITE, 0);
    offer(0);
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    ck_assert_uint_eq(virtq_chain_read(chain, 5, out, sizeof(out)), 25);
    for (unsigned i = 0; i < 25; i++)
        ck_assert_int_eq(out[i], i + 5);
    ck_assert_uint_eq(virtq_chain_read(chain, 30, out, sizeof(out)), 0);
    memset(in, 0xab, sizeof(in));
    ck_assert_uint_eq(virtq_chain_write(chain, 4, in, sizeof(in)), 12);
    ck_assert_int_eq(((uint8_t *)at(BUF_GPA + 0x100))[3], 0);
    ck_assert_int_eq(((uint8_t *)at(BUF_GPA + 0x100))[4], 0xab);
    ck_assert_int_eq(((uint8_t *)at(BUF_GPA + 0x200))[7], 0xab);
    ck_assert_int_eq(((uint8_t *)at(BUF_GPA + 0x200))[8], 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtqueue");
    TCase *tc = tcase_create("virtqueue");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, setup_checks);
    tcase_add_test(tc, one_chain_round_trip);
    tcase_add_test(tc, indices_wrap);
    tcase_add_test(tc, avail_index_jumps);
    tcase_add_test(tc, head_past_table);
    tcase_add_test(tc, next_past_table);
    tcase_add_test(tc, chain_loops);
    tcase_add_test(tc, chain_of_every_descriptor);
    tcase_add_loop_test(tc, buffer_outside_ram, 0, 4);
    tcase_add_test(tc, writable_in_rom);
    tcase_add_test(tc, readable_after_writable);
    tcase_add_test(tc, indirect_chain);
    tcase_add_test(tc, indirect_largest);
    tcase_add_loop_test(tc, indirect_rules, 0, 7);
    tcase_add_test(tc, notify_flags);
    tcase_add_test(tc, notify_event_idx);
    tcase_add_test(tc, chain_copies);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
