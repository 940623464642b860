/*
 * virtio-blk's requests (src/devices/virtio_blk.c) as a hostile driver
 * sends them: descriptor chains built in a fake guest RAM, taken by the
 * virtqueue code and served over a temporary image file. Well-formed
 * reads, writes, flushes, IDs, discards land where they should; every
 * malformed or out-of-range one gets its status (IOERR or UNSUPP) and
 * leaves the image as it was. And the image's own checks at open: its
 * kind, its lock, its capacity.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vmm/hw/virtio_blk.h"
#include "vmm/virtqueue.h"

#include "unit.h"

#define RAM_GPA 0x10000ULL
#define RAM_SIZE 0x100000ULL
#define QSIZE 16
#define DESC_GPA (RAM_GPA + 0x1000)
#define AVAIL_GPA (RAM_GPA + 0x2000)
#define USED_GPA (RAM_GPA + 0x3000)
#define BUF_GPA (RAM_GPA + 0x10000)
#define SECTORS 64                      /* the image: 64 sectors and a tail */
#define TAIL 100

static struct guest_mem mem;
static uint8_t *ram;
static struct virtq q;
static struct virtq_chain *chain;
static char dir[] = "/tmp/vmm-blk-XXXXXX";
static char image[64];
static struct virtio_blk_disk disk;

static void *at(uint64_t gpa)
{
    return ram + (gpa - RAM_GPA);
}

/* A buffer of a chain: where in RAM, how long, device-writable or not. */
struct buf {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

/* The driver offers @n buffers as one chain; the device takes it and
 * serves it. The bytes it says it wrote. */
static uint32_t request(const struct buf *b, unsigned n)
{
    struct vring_desc *d = at(DESC_GPA);
    struct vring_avail *avail = at(AVAIL_GPA);

    for (unsigned i = 0; i < n; i++)
        d[i] = (struct vring_desc){ .addr = b[i].gpa, .len = b[i].len,
                                    .flags = (i + 1 < n ? VRING_DESC_F_NEXT : 0) |
                                             (b[i].write ? VRING_DESC_F_WRITE : 0),
                                    .next = i + 1 };
    avail->ring[avail->idx % QSIZE] = 0;
    avail->idx++;
    ck_assert_int_eq(virtq_pop(&q, chain), VIRTQ_CHAIN);
    return virtio_blk_handle(&disk, chain);
}

#define HDR_GPA BUF_GPA
#define DATA_GPA (BUF_GPA + 0x1000)
#define STATUS_GPA (BUF_GPA + 0x800)

static void header(uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr h = { .type = GUINT32_TO_LE(type), .sector = GUINT64_TO_LE(sector) };

    memcpy(at(HDR_GPA), &h, sizeof(h));
    *(uint8_t *)at(STATUS_GPA) = 0xee; /* not a status: the device must write one */
}

static uint8_t status(void)
{
    return *(uint8_t *)at(STATUS_GPA);
}

/* The usual three-part request: header, data (@len bytes, in the
 * direction @type needs), status. */
static uint32_t simple(uint32_t type, uint64_t sector, uint32_t len, bool data_write)
{
    struct buf b[] = { { HDR_GPA, 16, false }, { DATA_GPA, len, data_write },
                       { STATUS_GPA, 1, true } };

    header(type, sector);
    if (!len)
        return request((struct buf[]){ b[0], b[2] }, 2);
    return request(b, 3);
}

static uint8_t image_byte(uint64_t offset)
{
    int fd = open(image, O_RDONLY);
    uint8_t c = 0;

    ck_assert_int_eq(pread(fd, &c, 1, offset), 1);
    close(fd);
    return c;
}

static void open_disk(bool readonly, const char *serial)
{
    struct device_disk cfg = { .path = image, .readonly = readonly, .serial = (char *)serial };
    GError *err = NULL;

    ck_assert_msg(virtio_blk_open(&disk, &cfg, &err), "%s", err ? err->message : "");
}

static void setup(void)
{
    GError *err = NULL;
    uint8_t *data = malloc(SECTORS * 512 + TAIL);
    int fd;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(image, sizeof(image), "%s/disk.img", dir);
    for (unsigned i = 0; i < SECTORS * 512 + TAIL; i++)
        data[i] = (uint8_t)(i / 512 + i);  /* each sector its own pattern */
    fd = open(image, O_CREAT | O_WRONLY | O_TRUNC, 0600);
    ck_assert_int_eq(write(fd, data, SECTORS * 512 + TAIL), SECTORS * 512 + TAIL);
    close(fd);
    free(data);

    ram = calloc(1, RAM_SIZE);
    mem = (struct guest_mem){ .nr = 1 };
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram };
    mem.ram = &mem.regions[0];
    chain = calloc(1, sizeof(*chain));
    ck_assert(virtq_setup(&q, &mem, QSIZE, DESC_GPA, AVAIL_GPA, USED_GPA, false, &err));
    open_disk(false, "serial-0001");
}

static void teardown(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf %s", dir);

    virtio_blk_close(&disk);
    free(ram);
    free(chain);
    ck_assert_int_eq(system(cmd), 0);
    strcpy(dir, "/tmp/vmm-blk-XXXXXX");
}

START_TEST(capacity_features_config)
{
    uint8_t config[VIRTIO_BLK_CONFIG_SIZE];
    uint64_t f = virtio_blk_features(&disk), cap;
    uint32_t v;

    ck_assert_uint_eq(disk.capacity, SECTORS); /* the tail is not part of it */
    ck_assert(f & (1ULL << VIRTIO_BLK_F_FLUSH));
    ck_assert(f & (1ULL << VIRTIO_BLK_F_BLK_SIZE));
    ck_assert(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
    ck_assert(f & (1ULL << VIRTIO_BLK_F_SIZE_MAX));
    ck_assert(!(f & (1ULL << VIRTIO_BLK_F_RO)));
    ck_assert(!!(f & (1ULL << VIRTIO_BLK_F_DISCARD)) == disk.discard);
    ck_assert(!!(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)) == disk.write_zeroes);
    virtio_blk_fill_config(&disk, config);
    memcpy(&cap, config, 8);
    ck_assert_uint_eq(GUINT64_FROM_LE(cap), SECTORS);
    memcpy(&v, config + 20, 4);
    ck_assert_uint_eq(GUINT32_FROM_LE(v), 512);
    memcpy(&v, config + 12, 4);
    ck_assert_uint_eq(GUINT32_FROM_LE(v), VIRTIO_BLK_SEG_MAX);
    /* The probe changed nothing the guest or the host sees. */
    struct stat st;
    ck_assert_int_eq(stat(image, &st), 0);
    ck_assert_int_eq(st.st_size, SECTORS * 512 + TAIL);
}
END_TEST

START_TEST(read_and_write)
{
    uint8_t *data = at(DATA_GPA);

    /* Sectors 3 and 4 into RAM. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 3, 1024, true), 1025);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < 1024; i++)
        ck_assert_uint_eq(data[i], (uint8_t)(3 + i / 512 + 3 * 512 + i));
    /* The last whole sector reads; nothing of the tail does. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, SECTORS - 1, 512, true), 513);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);

    /* A sector of 0x5a from RAM to sector 10. */
    memset(data, 0x5a, 512);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_OUT, 10, 512, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(image_byte(10 * 512), 0x5a);
    ck_assert_uint_eq(image_byte(11 * 512 - 1), 0x5a);
    ck_assert_uint_eq(image_byte(11 * 512), (uint8_t)(11 + 11 * 512));
    ck_assert_uint_eq(image_byte(10 * 512 - 1), (uint8_t)(9 + 10 * 512 - 1));

    /* No data at all is a valid request. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 0, 0, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_FLUSH, 0, 0, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
}
END_TEST

/* The spec lets the driver frame a request as it likes: a header split
 * in two, data across buffers of odd sizes, the status byte at the end of
 * the last data buffer, the write's data after the header in one buffer. */
START_TEST(any_layout)
{
    uint8_t *data = at(DATA_GPA);
    struct buf read[] = {
        { HDR_GPA, 7, false }, { HDR_GPA + 7, 9, false },
        { DATA_GPA, 100, true }, { DATA_GPA + 100, 924, true }, { DATA_GPA + 1024, 1, true },
    };
    struct buf write[] = { { HDR_GPA, 16 + 512, false }, { STATUS_GPA, 1, true } };

    header(VIRTIO_BLK_T_IN, 5);
    ck_assert_uint_eq(request(read, G_N_ELEMENTS(read)), 1025);
    ck_assert_uint_eq(data[1024], VIRTIO_BLK_S_OK);
    for (unsigned i = 0; i < 1024; i++)
        ck_assert_uint_eq(data[i], (uint8_t)(5 + i / 512 + 5 * 512 + i));

    header(VIRTIO_BLK_T_OUT, 20);
    memset(at(HDR_GPA + 16), 0xa7, 512);
    ck_assert_uint_eq(request(write, 2), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(image_byte(20 * 512), 0xa7);
    ck_assert_uint_eq(image_byte(21 * 512 - 1), 0xa7);
}
END_TEST

START_TEST(out_of_range)
{
    static const struct { uint64_t sector; uint32_t len; } bad[] = {
        { SECTORS, 512 },                 /* just past the end */
        { SECTORS - 1, 1024 },            /* straddling it */
        { SECTORS + 1, 0 },               /* past it, even with no data */
        { UINT64_MAX, 512 },              /* sector + count wraps */
        { UINT64_MAX / 512 + 1, 512 },    /* sector * 512 wraps */
    };

    for (unsigned i = 0; i < G_N_ELEMENTS(bad); i++) {
        ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, bad[i].sector, bad[i].len, true), 1);
        ck_assert_msg(status() == VIRTIO_BLK_S_IOERR, "read case %u", i);
        memset(at(DATA_GPA), 0x11, bad[i].len);
        ck_assert_uint_eq(simple(VIRTIO_BLK_T_OUT, bad[i].sector, bad[i].len, false), 1);
        ck_assert_msg(status() == VIRTIO_BLK_S_IOERR, "write case %u", i);
    }
    ck_assert_uint_eq(image_byte(SECTORS * 512), (uint8_t)(SECTORS + SECTORS * 512));
    ck_assert_uint_eq(image_byte(SECTORS * 512 - 1), (uint8_t)(SECTORS - 1 + SECTORS * 512 - 1));
}
END_TEST

START_TEST(malformed)
{
    /* Not whole sectors. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 0, 100, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_OUT, 0, 513, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    /* Data in the wrong direction: a read with readable data, a write
     * with writable room before its status, a flush with data. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 0, 512, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_OUT, 0, 512, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(image_byte(0), 0);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_FLUSH, 0, 512, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    /* A header shorter than 16 bytes. */
    header(VIRTIO_BLK_T_IN, 0);
    ck_assert_uint_eq(request((struct buf[]){ { HDR_GPA, 15, false }, { STATUS_GPA, 1, true } }, 2),
                      1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    /* No header at all: only writable buffers. */
    ck_assert_uint_eq(request((struct buf[]){ { DATA_GPA, 512, true }, { STATUS_GPA, 1, true } },
                              2), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    /* No status byte: nothing can be said, nothing is written or done. */
    header(VIRTIO_BLK_T_OUT, 0);
    memset(at(DATA_GPA), 0x77, 512);
    ck_assert_uint_eq(request((struct buf[]){ { HDR_GPA, 16, false }, { DATA_GPA, 512, false } },
                              2), 0);
    ck_assert_uint_eq(status(), 0xee);
    ck_assert_uint_eq(image_byte(0), 0);
    /* Unknown types, and SCSI commands. */
    ck_assert_uint_eq(simple(99, 0, 0, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_SCSI_CMD, 0, 512, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN | VIRTIO_BLK_T_BARRIER, 0, 512, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
}
END_TEST

START_TEST(get_id)
{
    uint8_t *data = at(DATA_GPA);

    memset(data, 0xff, 32);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true), 21);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    ck_assert_mem_eq(data, "serial-0001\0\0\0\0\0\0\0\0\0", VIRTIO_BLK_ID_BYTES);
    ck_assert_uint_eq(data[VIRTIO_BLK_ID_BYTES], 0xff);
    /* Too little room for the ID. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_GET_ID, 0, 19, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
}
END_TEST

START_TEST(read_only)
{
    virtio_blk_close(&disk);
    open_disk(true, NULL);
    ck_assert(virtio_blk_features(&disk) & (1ULL << VIRTIO_BLK_F_RO));
    ck_assert(!disk.discard && !disk.write_zeroes);
    memset(at(DATA_GPA), 0x33, 512);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_OUT, 1, 512, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    ck_assert_uint_eq(image_byte(512), 1);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 1, 512, true), 513);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_FLUSH, 0, 0, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
    /* Not offered, so not done, whatever the driver sends. */
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_DISCARD, 0, 16, false), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
    /* Its GET_ID without a serial: 20 NUL bytes. */
    memset(at(DATA_GPA), 0xff, 20);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, true), 21);
    ck_assert_mem_eq(at(DATA_GPA), "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
}
END_TEST

static void range(unsigned i, uint64_t sector, uint32_t count, uint32_t flags)
{
    struct virtio_blk_discard_write_zeroes r = {
        .sector = GUINT64_TO_LE(sector), .num_sectors = GUINT32_TO_LE(count),
        .flags = GUINT32_TO_LE(flags),
    };

    memcpy((uint8_t *)at(DATA_GPA) + i * sizeof(r), &r, sizeof(r));
}

START_TEST(discard_and_write_zeroes)
{
    if (!disk.discard || !disk.write_zeroes) {
        /* This file system lacks one: whatever it lacks is refused. */
        if (!disk.discard) {
            range(0, 0, 1, 0);
            simple(VIRTIO_BLK_T_DISCARD, 0, 16, false);
            ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        }
        if (!disk.write_zeroes) {
            range(0, 0, 1, 0);
            simple(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
            ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        }
    }
    if (disk.discard) {
        range(0, 8, 8, 0);
        ck_assert_uint_eq(simple(VIRTIO_BLK_T_DISCARD, 0, 16, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_uint_eq(image_byte(8 * 512), 0);
        ck_assert_uint_eq(image_byte(16 * 512 - 1), 0);
        ck_assert_uint_eq(image_byte(16 * 512), (uint8_t)(16 + 16 * 512));
        /* Discard has no flags; ranges past the end, wrapping, or too many. */
        range(0, 0, 1, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
        simple(VIRTIO_BLK_T_DISCARD, 0, 16, false);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
        range(0, SECTORS - 1, 2, 0);
        simple(VIRTIO_BLK_T_DISCARD, 0, 16, false);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        range(0, UINT64_MAX - 1, 4, 0);
        simple(VIRTIO_BLK_T_DISCARD, 0, 16, false);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        for (unsigned i = 0; i <= VIRTIO_BLK_DISCARD_SEG_MAX; i++)
            range(i, 0, 1, 0);
        simple(VIRTIO_BLK_T_DISCARD, 0, 16 * (VIRTIO_BLK_DISCARD_SEG_MAX + 1), false);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        simple(VIRTIO_BLK_T_DISCARD, 0, 15, false);    /* not whole ranges */
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
        ck_assert_uint_eq(image_byte(0), 0);
        ck_assert_uint_eq(image_byte(SECTORS * 512 - 1), (uint8_t)(SECTORS - 1 + SECTORS * 512 - 1));
    }
    if (disk.write_zeroes) {
        range(0, 30, 1, 0);
        range(1, 40, 2, 0);
        ck_assert_uint_eq(simple(VIRTIO_BLK_T_WRITE_ZEROES, 0, 32, false), 1);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_OK);
        ck_assert_uint_eq(image_byte(30 * 512 + 7), 0);
        ck_assert_uint_eq(image_byte(41 * 512 + 511), 0);
        ck_assert_uint_eq(image_byte(31 * 512), (uint8_t)(31 + 31 * 512));
        range(0, 0, 1, 2); /* an unknown flag */
        simple(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, false);
        ck_assert_uint_eq(status(), VIRTIO_BLK_S_UNSUPP);
    }
}
END_TEST

/* The image shrinks under the VM: a read past its new end is an I/O
 * error, not zeros and not a crash. */
START_TEST(image_shrinks)
{
    ck_assert_int_eq(truncate(image, 4 * 512), 0);
    ck_assert_uint_eq(simple(VIRTIO_BLK_T_IN, 8, 512, true), 1);
    ck_assert_uint_eq(status(), VIRTIO_BLK_S_IOERR);
    ck_assert(disk.logged);
}
END_TEST

static void assert_refused(const char *path, bool readonly, const char *what)
{
    struct device_disk cfg = { .path = (char *)path, .readonly = readonly };
    struct virtio_blk_disk d;
    GError *err = NULL;

    ck_assert(!virtio_blk_open(&d, &cfg, &err));
    ck_assert_msg(strstr(err->message, what) && strstr(err->message, path),
                  "%s: \"%s\", expected \"%s\"", path, err->message, what);
    g_clear_error(&err);
    virtio_blk_close(&d);
}

START_TEST(open_refusals)
{
    g_autofree char *fifo = g_strdup_printf("%s/fifo", dir);
    g_autofree char *missing = g_strdup_printf("%s/missing", dir);

    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    assert_refused(fifo, true, "a FIFO");      /* and does not block opening it */
    assert_refused(fifo, false, "a FIFO");
    assert_refused(dir, true, "a directory");
    assert_refused("/dev/null", false, "a character device");
    assert_refused(missing, true, "No such file");
}
END_TEST

/* One writer or many readers, across opens as across VMs. */
START_TEST(locks)
{
    struct virtio_blk_disk ro1, ro2;
    struct device_disk rw = { .path = image }, ro = { .path = image, .readonly = true };
    GError *err = NULL;

    /* The fixture's disk has it read-write. */
    assert_refused(image, false, "in use");
    assert_refused(image, true, "another VM writes it");
    virtio_blk_close(&disk);
    ck_assert(virtio_blk_open(&ro1, &ro, &err));
    ck_assert(virtio_blk_open(&ro2, &ro, &err));
    assert_refused(image, false, "another VM has it open");
    virtio_blk_close(&ro1);
    virtio_blk_close(&ro2);
    ck_assert(virtio_blk_open(&disk, &rw, &err));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtio-blk");
    TCase *tc = tcase_create("requests");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, capacity_features_config);
    tcase_add_test(tc, read_and_write);
    tcase_add_test(tc, any_layout);
    tcase_add_test(tc, out_of_range);
    tcase_add_test(tc, malformed);
    tcase_add_test(tc, get_id);
    tcase_add_test(tc, read_only);
    tcase_add_test(tc, discard_and_write_zeroes);
    tcase_add_test(tc, image_shrinks);
    tcase_add_test(tc, open_refusals);
    tcase_add_test(tc, locks);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
