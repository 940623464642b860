/*
 * virtio-hostile: a hostile virtio driver for
 * tests/integration/linux-virtio-hostile.sh, run as root in a Linux guest.
 * Test-only: not installed.
 *
 *   virtio-hostile DEVICE_ID
 *
 * Takes the virtio PCI function whose PCI device ID is DEVICE_ID (hex,
 * e.g. 1044 for virtio-rng) away from Linux (unbinds its driver), maps its
 * BAR 0 through sysfs and drives its queue 0 by hand with rings in pages
 * of its own memory, whose guest-physical addresses /proc/self/pagemap
 * gives. Each case sets the device up afresh, offers one chain and kicks:
 * the malformed ones must each end with the device setting
 * DEVICE_NEEDS_RESET and using nothing; then a well-formed request must be
 * served (the device recovered after its reset). Prints one line per
 * case and "virtio-hostile: all N cases as expected"; exits 0 when every
 * case went as expected, 1 otherwise, 2 when the set-up failed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define QSIZE 4
#define WAIT_SECONDS 120 /* a bound on each wait, never reached when it works */

/* virtio 1.x, PCI transport: the common configuration's fields */
#define DFSELECT 0x00
#define DF 0x04
#define GFSELECT 0x08
#define GF 0x0c
#define STATUS 0x14
#define Q_SELECT 0x16
#define Q_SIZE 0x18
#define Q_ENABLE 0x1c
#define Q_NOFF 0x1e
#define Q_DESC 0x20
#define Q_AVAIL 0x28
#define Q_USED 0x30

#define S_ACK 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 0x40

#define F_INDIRECT (1u << 28)
#define D_NEXT 1
#define D_WRITE 2
#define D_INDIRECT 4

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};

static char dev_dir[300];
static volatile uint8_t *bar;
static uint32_t common, notify, isr, notify_mult;
static uint8_t *mem;   /* page 0: rings, 1: buffer, 2: indirect table */
static uint64_t phys[3];

static int fail_setup(const char *what)
{
    fprintf(stderr, "virtio-hostile: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void w8(uint32_t off, uint8_t v) { *(volatile uint8_t *)(bar + off) = v; }
static void w16(uint32_t off, uint16_t v) { *(volatile uint16_t *)(bar + off) = v; }
static void w32(uint32_t off, uint32_t v) { *(volatile uint32_t *)(bar + off) = v; }
static uint8_t r8(uint32_t off) { return *(volatile uint8_t *)(bar + off); }
static uint32_t r32(uint32_t off) { return *(volatile uint32_t *)(bar + off); }

static void w64(uint32_t off, uint64_t v)
{
    w32(off, (uint32_t)v);
    w32(off + 4, (uint32_t)(v >> 32));
}

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* The hexadecimal number in sysfs file @dir/@name; 0 when unreadable. */
static unsigned read_hex(const char *dir, const char *name)
{
    char path[400], buf[32];
    unsigned v = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "r"))) {
        if (fgets(buf, sizeof(buf), f))
            v = strtoul(buf, NULL, 16);
        fclose(f);
    }
    return v;
}

/* The function with PCI device ID @id from vendor 0x1af4: its sysfs
 * folder in dev_dir. */
static void find_device(unsigned id)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;

    if (!d)
        fail_setup("/sys/bus/pci/devices");
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(dev_dir, sizeof(dev_dir), "/sys/bus/pci/devices/%s", e->d_name);
        if (read_hex(dev_dir, "vendor") == 0x1af4 && read_hex(dev_dir, "device") == id) {
            closedir(d);
            printf("virtio-hostile: device %04x at %s\n", id, e->d_name);
            return;
        }
    }
    errno = ENODEV;
    fail_setup("no such virtio PCI function");
}

/* Linux lets go of it; memory decoding and bus mastering on, INTx off;
 * the virtio capabilities found; BAR 0 mapped. */
static void take_device(void)
{
    char path[400];
    uint8_t cfg[256];
    uint16_t cmd = 0x2 | 0x4 | 0x400;
    struct stat st;
    unsigned found = 0;
    int fd;

    snprintf(path, sizeof(path), "%s/driver/unbind", dev_dir);
    if (access(path, W_OK) == 0 && write_file(path, strrchr(dev_dir, '/') + 1) < 0)
        fail_setup("unbinding its driver");
    snprintf(path, sizeof(path), "%s/config", dev_dir);
    fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg))
        fail_setup("reading its configuration space");
    if (pwrite(fd, &cmd, 2, 4) != 2)
        fail_setup("writing its command register");
    close(fd);
    for (unsigned at = cfg[0x34]; at && at < 0xf0; at = cfg[at + 1]) {
        uint32_t off;

        if (cfg[at] != 0x09 || cfg[at + 4] != 0)
            continue;
        memcpy(&off, cfg + at + 8, 4);
        found |= 1u << (cfg[at + 3] & 7);
        switch (cfg[at + 3]) {
        case 1: common = off; break;
        case 2: notify = off; memcpy(&notify_mult, cfg + at + 16, 4); break;
        case 3: isr = off; break;
        }
    }
    if ((found & 0xe) != 0xe) { /* common (1), notify (2), ISR (3) */
        errno = ENOENT;
        fail_setup("no virtio capabilities in BAR 0");
    }
    snprintf(path, sizeof(path), "%s/resource0", dev_dir);
    fd = open(path, O_RDWR | O_SYNC);
    if (fd < 0 || fstat(fd, &st) < 0)
        fail_setup("opening BAR 0");
    bar = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (bar == MAP_FAILED)
        fail_setup("mapping BAR 0");
    close(fd);
}

/* Three pages of our own, locked, and where they are in guest RAM. */
static void get_memory(void)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);

    mem = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
    if (mem == MAP_FAILED || fd < 0)
        fail_setup("memory for the rings");
    for (int i = 0; i < 3; i++) {
        uint64_t e;

        mem[i * PAGE] = 1;
        if (pread(fd, &e, 8, (off_t)((uintptr_t)(mem + i * PAGE) / PAGE * 8)) != 8)
            fail_setup("reading /proc/self/pagemap");
        if (!(e >> 63) || !(e & ((1ULL << 55) - 1))) {
            errno = EPERM;
            fail_setup("no physical address in /proc/self/pagemap");
        }
        phys[i] = (e & ((1ULL << 55) - 1)) * PAGE;
    }
    close(fd);
}

static double now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

/* Resets the device and sets queue 0 up on page 0; the chain is written
 * by the case after this. */
static int setup_queue(void)
{
    double t0 = now();
    uint32_t features;

    w8(common + STATUS, 0);
    while (r8(common + STATUS) != 0)
        if (now() - t0 > WAIT_SECONDS)
            return -1;
    (void)r8(isr); /* lowers anything left */
    memset(mem, 0, 3 * PAGE);
    w8(common + STATUS, S_ACK | S_DRIVER);
    w32(common + DFSELECT, 0);
    features = r32(common + DF) & F_INDIRECT;
    w32(common + GFSELECT, 0);
    w32(common + GF, features);
    w32(common + GFSELECT, 1);
    w32(common + GF, 1); /* VIRTIO_F_VERSION_1 */
    w8(common + STATUS, S_ACK | S_DRIVER | S_FEATURES_OK);
    if (!(r8(common + STATUS) & S_FEATURES_OK))
        return -1;
    w16(common + Q_SELECT, 0);
    w16(common + Q_SIZE, QSIZE);
    w64(common + Q_DESC, phys[0]);
    w64(common + Q_AVAIL, phys[0] + 0x400);
    w64(common + Q_USED, phys[0] + 0x800);
    w16(common + Q_ENABLE, 1);
    w8(common + STATUS, S_ACK | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    return 0;
}

static struct desc *descs(void) { return (struct desc *)mem; }
static volatile uint16_t *avail(void) { return (volatile uint16_t *)(mem + 0x400); }
static volatile uint16_t *used_idx(void) { return (volatile uint16_t *)(mem + 0x802); }
static volatile uint32_t *used_len(void) { return (volatile uint32_t *)(mem + 0x808); }

/* Offers head @head with the available index moving to @idx, and kicks. */
static void offer(uint16_t head, uint16_t idx)
{
    uint16_t off = *(volatile uint16_t *)(bar + common + Q_NOFF);

    avail()[2] = head;
    __sync_synchronize();
    avail()[1] = idx;
    __sync_synchronize();
    w16(notify + off * notify_mult, 0);
}

/* Waits for the device to say it needs a reset, having used nothing. */
static int expect_broken(const char *name)
{
    double t0 = now();

    while (!(r8(common + STATUS) & S_NEEDS_RESET)) {
        if (now() - t0 > WAIT_SECONDS) {
            printf("virtio-hostile: case %s: no DEVICE_NEEDS_RESET after %d s\n", name,
                   WAIT_SECONDS);
            return 1;
        }
        usleep(1000);
    }
    if (*used_idx() != 0) {
        printf("virtio-hostile: case %s: the device used %u buffers\n", name, *used_idx());
        return 1;
    }
    printf("virtio-hostile: case %s: the device needs a reset, used nothing\n", name);
    return 0;
}

/* A well-formed request: one writable buffer, served with bytes. */
static int expect_served(const char *name)
{
    double t0 = now();

    descs()[0] = (struct desc){ .addr = phys[1], .len = 64, .flags = D_WRITE };
    offer(0, 1);
    while (*used_idx() != 1) {
        if (now() - t0 > WAIT_SECONDS || (r8(common + STATUS) & S_NEEDS_RESET)) {
            printf("virtio-hostile: case %s: the request was not served (status %#x)\n", name,
                   r8(common + STATUS));
            return 1;
        }
        usleep(1000);
    }
    if (*used_len() == 0 || *used_len() > 64) {
        printf("virtio-hostile: case %s: the device wrote %u bytes\n", name, *used_len());
        return 1;
    }
    printf("virtio-hostile: case %s: served, %u bytes\n", name, *used_len());
    return 0;
}

static void put_desc(struct desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    *d = (struct desc){ .addr = addr, .len = len, .flags = flags, .next = next };
}

static int good(const char *name)
{
    return expect_served(name);
}

static int loop(const char *name)
{
    put_desc(&descs()[0], phys[1], 16, D_NEXT | D_WRITE, 1);
    put_desc(&descs()[1], phys[1] + 16, 16, D_NEXT | D_WRITE, 0);
    offer(0, 1);
    return expect_broken(name);
}

static int outside_ram(const char *name)
{
    put_desc(&descs()[0], 0xfffffffffff00000ULL, PAGE, D_WRITE, 0);
    offer(0, 1);
    return expect_broken(name);
}

static int length_wraps(const char *name)
{
    put_desc(&descs()[0], phys[1], 0xffffffffU, D_WRITE, 0);
    offer(0, 1);
    return expect_broken(name);
}

static int head_past_table(const char *name)
{
    offer(QSIZE + 3, 1);
    return expect_broken(name);
}

static int avail_jump(const char *name)
{
    put_desc(&descs()[0], phys[1], 64, D_WRITE, 0);
    offer(0, 1000);
    return expect_broken(name);
}

static int next_past_table(const char *name)
{
    put_desc(&descs()[0], phys[1], 16, D_NEXT | D_WRITE, QSIZE + 9);
    offer(0, 1);
    return expect_broken(name);
}

static int indirect_in_indirect(const char *name)
{
    struct desc *table = (struct desc *)(mem + 2 * PAGE);

    put_desc(&table[0], phys[2], 32, D_INDIRECT, 0);
    put_desc(&table[1], phys[1], 16, D_WRITE, 0);
    put_desc(&descs()[0], phys[2], 32, D_INDIRECT, 0);
    offer(0, 1);
    return expect_broken(name);
}

static int indirect_bad_length(const char *name)
{
    put_desc(&descs()[0], phys[2], 24, D_INDIRECT, 0);
    offer(0, 1);
    return expect_broken(name);
}

static const struct {
    const char *name;
    int (*run)(const char *name);
} cases[] = {
    { "good-first", good },
    { "loop", loop },
    { "outside-ram", outside_ram },
    { "length-wraps", length_wraps },
    { "head-past-table", head_past_table },
    { "avail-jump", avail_jump },
    { "next-past-table", next_past_table },
    { "indirect-in-indirect", indirect_in_indirect },
    { "indirect-bad-length", indirect_bad_length },
    { "good-after", good },
};

int main(int argc, char **argv)
{
    int failed = 0, n = (int)(sizeof(cases) / sizeof(cases[0]));

    if (argc != 2) {
        fprintf(stderr, "usage: virtio-hostile DEVICE_ID (hex)\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    find_device((unsigned)strtoul(argv[1], NULL, 16));
    take_device();
    get_memory();
    /* Each case on a device just reset and set up. */
    for (int i = 0; i < n; i++) {
        if (setup_queue() < 0) {
            printf("virtio-hostile: case %s: the set-up was refused\n", cases[i].name);
            failed++;
            continue;
        }
        failed += cases[i].run(cases[i].name);
    }
    w8(common + STATUS, 0);
    if (failed) {
        printf("virtio-hostile: %d of %d cases went otherwise\n", failed, n);
        return 1;
    }
    printf("virtio-hostile: all %d cases as expected\n", n);
    return 0;
}
