/*
 * virtio-fs end to end without KVM: the device behind the PCI transport,
 * driven as a Linux driver would through ECAM and the BAR, with the real
 * virtiofsd (when installed, as root) serving its queues from guest RAM
 * in a memfd. FUSE_INIT gets its answer through the request queue; a
 * FUSE_CREATE makes a file in a read-write share and gets EROFS in a
 * read-only one (enforced by the host, whatever the guest asks); a reset
 * stops the daemon's queues; a daemon killed under the device breaks that
 * device only.
 */
#include <errno.h>
#include <linux/fuse.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/guest_mem.h"
#include "vmm/hw/pci_host.h"
#include "vmm/hw/virtio_pci.h"
#include "vmm/hw/virtio_fs.h"
#include "vmm/hw/virtiofsd.h"
#include "vmm/iobus.h"

#include "unit.h"

#define ECAM 0xe0000000ULL
#define WINDOW 0xc0000000ULL
#define RAM_GPA 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define SLOT 11
#define QSIZE 8
#define REQUESTQ 1
#define DESC(q) (RAM_GPA + 0x1000 + (q) * 0x3000)
#define AVAIL(q) (DESC(q) + 0x1000)
#define USED(q) (DESC(q) + 0x2000)
#define IN_BUF (RAM_GPA + 0x10000)
#define OUT_BUF (RAM_GPA + 0x20000)

static const struct pci_host_params params = {
    .window_base = WINDOW, .window_size = 0x100000,
};
static const struct device_desc lines[] = {
    { &pci_host_device, ECAM, 0x100000, -1, DEVICE_BOOT_ANY, &params },
    VIRTIO_FS_LINE(SLOT, -1, 0),
    VIRTIO_FS_LINE(SLOT + 1, -1, 1),   /* no share 1: stays empty */
};

static struct iobus bus;
static struct device_set devs;
static struct guest_mem mem;
static uint8_t *ram;
static int ram_fd = -1;
static char *dir;
static uint64_t common, isr, notify, device_cfg;
static uint64_t unique = 1;

static uint32_t cfg(unsigned off, unsigned len)
{
    return unit_mmio_read(&bus, ECAM + (SLOT << 15) + off, len);
}

static void *at(uint64_t gpa)
{
    return ram + (gpa - RAM_GPA);
}

static void discover(void)
{
    uint32_t bar = cfg(PCI_BAR0, 4) & ~0xfU;

    for (unsigned a = cfg(PCI_CAPABILITY_LIST, 1); a; a = cfg(a + 1, 1)) {
        uint64_t where = bar + cfg(a + VIRTIO_PCI_CAP_OFFSET, 4);

        switch (cfg(a + VIRTIO_PCI_CAP_CFG_TYPE, 1)) {
        case VIRTIO_PCI_CAP_COMMON_CFG: common = where; break;
        case VIRTIO_PCI_CAP_ISR_CFG: isr = where; break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG: notify = where; break;
        case VIRTIO_PCI_CAP_DEVICE_CFG: device_cfg = where; break;
        }
    }
    ck_assert(common && isr && notify && device_cfg);
    unit_mmio_write(&bus, ECAM + (SLOT << 15) + PCI_COMMAND,
                    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
}

static uint8_t status(void)
{
    return unit_mmio_read(&bus, common + VIRTIO_PCI_COMMON_STATUS, 1);
}

static void set_status(uint8_t s)
{
    unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_STATUS, s, 1);
}

#define WAIT_FOR(cond)                                                     \
    do {                                                                   \
        for (int _n = 0; !(cond) && _n < 10000; _n++)                      \
            g_usleep(1000);                                                \
        ck_assert_msg((cond), "timed out waiting for " #cond);             \
    } while (0)

/* A share of @path (read-only or not) on the device, and a driver that
 * has set it up to DRIVER_OK. */
static bool realize(const char *path, bool readonly, GError **error)
{
    static struct device_share share;
    struct device_ctx ctx = { .iobus = &bus, .mem = &mem, .shares = &share, .nr_shares = 1 };

    share = (struct device_share){ .path = (char *)path, .tag = "unit-tag",
                                   .readonly = readonly };
    iobus_init(&bus);
    return devices_realize(&devs, lines, G_N_ELEMENTS(lines), DEVICE_BOOT_ANY, &ctx, -1, NULL,
                           error);
}

static void driver_ready(void)
{
    uint64_t features = (1ULL << VIRTIO_F_VERSION_1);

    discover();
    set_status(0);
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    for (unsigned half = 0; half < 2; half++) {
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_GFSELECT, half, 4);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> (32 * half)),
                        4);
    }
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK);
    ck_assert(status() & VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < 2; q++) {
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_SIZE, QSIZE, 2);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_DESCLO, (uint32_t)DESC(q), 4);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_AVAILLO, (uint32_t)AVAIL(q), 4);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_USEDLO, (uint32_t)USED(q), 4);
        unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    }
    set_status(VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
               VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* One FUSE request (@in, @in_len bytes) on the request queue; the reply's
 * header and body land at OUT_BUF. The used length. */
static uint32_t fuse_call(const void *in, uint32_t in_len)
{
    struct vring_desc *d = at(DESC(REQUESTQ));
    struct vring_avail *a = at(AVAIL(REQUESTQ));
    struct vring_used *u = at(USED(REQUESTQ));
    uint16_t seen = __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);

    memcpy(at(IN_BUF), in, in_len);
    memset(at(OUT_BUF), 0, 4096);
    d[0] = (struct vring_desc){ .addr = IN_BUF, .len = in_len, .flags = VRING_DESC_F_NEXT,
                                .next = 1 };
    d[1] = (struct vring_desc){ .addr = OUT_BUF, .len = 4096, .flags = VRING_DESC_F_WRITE };
    a->ring[a->idx % QSIZE] = 0;
    __atomic_store_n(&a->idx, a->idx + 1, __ATOMIC_RELEASE);
    unit_mmio_write(&bus, notify + REQUESTQ * 4, REQUESTQ, 2);
    WAIT_FOR(__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) != seen);
    return u->ring[seen % QSIZE].len;
}

static const struct fuse_out_header *fuse_init(void)
{
    struct {
        struct fuse_in_header h;
        uint32_t major, minor, max_readahead, flags;
    } in = { .h = { .len = sizeof(in), .opcode = FUSE_INIT, .unique = unique++ },
             .major = 7, .minor = 31, .max_readahead = 65536 };
    const struct fuse_out_header *out = at(OUT_BUF);

    ck_assert_uint_ge(fuse_call(&in, sizeof(in)), sizeof(*out));
    ck_assert_uint_eq(out->unique, in.h.unique);
    return out;
}

/* FUSE_CREATE of @name in the share's root: the reply's error (0 or -errno). */
static int fuse_create(const char *name)
{
    struct {
        struct fuse_in_header h;
        struct fuse_create_in c;
        char name[32];
    } in = { .h = { .opcode = FUSE_CREATE, .unique = unique++, .nodeid = FUSE_ROOT_ID },
             .c = { .flags = 01 /* O_WRONLY */, .mode = S_IFREG | 0644 } };
    const struct fuse_out_header *out = at(OUT_BUF);
    uint32_t len = sizeof(in.h) + sizeof(in.c) + strlen(name) + 1;

    g_strlcpy(in.name, name, sizeof(in.name));
    in.h.len = len;
    ck_assert_uint_ge(fuse_call(&in, len), sizeof(*out));
    ck_assert_uint_eq(out->unique, in.h.unique);
    return out->error;
}

/* vmm_log() lines, for the watch's. */
static GMutex log_lock;
static GString *logged;

static void log_sink(const char *line, size_t len)
{
    g_mutex_lock(&log_lock);
    g_string_append_len(logged, line, len);
    g_mutex_unlock(&log_lock);
}

static bool logged_has(const char *text)
{
    bool has;

    g_mutex_lock(&log_lock);
    has = strstr(logged->str, text) != NULL;
    g_mutex_unlock(&log_lock);
    return has;
}

static void setup(void)
{
    ram_fd = memfd_create("unit-ram", MFD_CLOEXEC);
    ck_assert_int_ge(ram_fd, 0);
    ck_assert_int_eq(ftruncate(ram_fd, RAM_SIZE), 0);
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, ram_fd, 0);
    ck_assert(ram != MAP_FAILED);
    mem = (struct guest_mem){ .nr = 1 };
    mem.regions[0] = (struct mem_region){ .gpa = RAM_GPA, .size = RAM_SIZE, .hva = ram,
                                          .shared = true, .fd = ram_fd };
    mem.ram = &mem.regions[0];
    dir = g_dir_make_tmp("vmm-vfs-XXXXXX", NULL);
    ck_assert_ptr_nonnull(dir);
    unique = 1;
    g_unsetenv("VMM_VIRTIOFSD");
    logged = g_string_new(NULL);
    vmm_log_set_sink(log_sink);
}

static void teardown(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    devices_destroy(&devs);
    iobus_destroy(&bus);
    munmap(ram, RAM_SIZE);
    close(ram_fd);
    (void)!system(cmd);
    g_free(dir);
    vmm_log_set_sink(NULL);
    g_string_free(logged, TRUE);
}

static bool have_daemon(void)
{
    return access(VIRTIOFSD_DEFAULT, X_OK) == 0 && geteuid() == 0;
}

START_TEST(config_and_ids)
{
    GError *err = NULL;

    if (!have_daemon())
        return;
    ck_assert_msg(realize(dir, false, &err), "%s", err ? err->message : "");
    discover();
    ck_assert_uint_eq(cfg(PCI_VENDOR_ID, 2), 0x1af4);
    ck_assert_uint_eq(cfg(PCI_DEVICE_ID, 2), 0x1040 + 26);
    ck_assert_uint_eq(cfg(0x08, 4) >> 8, 0x018000);
    ck_assert_uint_eq(unit_mmio_read(&bus, device_cfg, 4), 0x74696e75); /* "unit" */
    ck_assert_uint_eq(unit_mmio_read(&bus, device_cfg + 4, 4), 0x6761742d); /* "-tag" */
    ck_assert_uint_eq(unit_mmio_read(&bus, device_cfg + 8, 4), 0);
    ck_assert_uint_eq(unit_mmio_read(&bus, device_cfg + 36, 4), 1); /* num_request_queues */
    unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    ck_assert_uint_eq(unit_mmio_read(&bus, common + VIRTIO_PCI_COMMON_Q_SIZE, 2),
                      VIRTIO_PCI_QUEUE_MAX_SIZE);
    unit_mmio_write(&bus, common + VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
    ck_assert_uint_eq(unit_mmio_read(&bus, common + VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
}
END_TEST

START_TEST(requests_reach_the_daemon)
{
    GError *err = NULL;
    g_autofree char *made = NULL;

    if (!have_daemon())
        return;
    ck_assert_msg(realize(dir, false, &err), "%s", err ? err->message : "");
    driver_ready();
    ck_assert_int_eq(fuse_init()->error, 0);
    ck_assert_int_eq(fuse_create("made-by-guest"), 0);
    made = g_build_filename(dir, "made-by-guest", NULL);
    ck_assert(g_file_test(made, G_FILE_TEST_IS_REGULAR));
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    /* A reset stops the daemon's queues, then the device starts again. */
    set_status(0);
    WAIT_FOR(status() == 0);
    driver_ready();
    ck_assert_uint_eq(status() & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    /* vmm's own stop of the daemon is no death to report. */
    devices_destroy(&devs);
    ck_assert(!logged_has("while the VM runs"));
}
END_TEST

START_TEST(readonly_share_refuses_writes)
{
    GError *err = NULL;
    g_autofree char *made = NULL;

    if (!have_daemon())
        return;
    ck_assert_msg(realize(dir, true, &err), "%s", err ? err->message : "");
    driver_ready();
    ck_assert_int_eq(fuse_init()->error, 0);
    ck_assert_int_eq(fuse_create("refused"), -EROFS);
    made = g_build_filename(dir, "refused", NULL);
    ck_assert(!g_file_test(made, G_FILE_TEST_EXISTS));
    /* The host's own view of the folder stays writable. */
    ck_assert(g_file_set_contents(made, "host", -1, NULL));
}
END_TEST

START_TEST(daemon_death_breaks_the_device_only)
{
    GError *err = NULL;
    g_autofree char *wrapper = g_strdup_printf("%s.sh", dir);
    g_autofree char *pidfile = g_strdup_printf("%s.pid", dir);
    g_autofree char *script = g_strdup_printf("#!/bin/sh\necho $$ >'%s'\nexec %s \"$@\"\n",
                                              pidfile, VIRTIOFSD_DEFAULT);
    g_autofree char *pid = NULL;

    if (!have_daemon())
        return;
    /* The daemon through a wrapper that says its pid (the exec keeps it). */
    ck_assert(g_file_set_contents(wrapper, script, -1, NULL));
    ck_assert_int_eq(chmod(wrapper, 0755), 0);
    g_setenv("VMM_VIRTIOFSD", wrapper, TRUE);
    ck_assert_msg(realize(dir, false, &err), "%s", err ? err->message : "");
    ck_assert(g_file_get_contents(pidfile, &pid, NULL, NULL));
    ck_assert_int_eq(kill(atoi(pid), SIGKILL), 0);
    /* Said at once, by the watch. */
    WAIT_FOR(logged_has("share unit-tag: virtiofsd was killed by signal 9 (Killed) while "
                        "the VM runs: the share no longer answers the guest"));
    driver_ready();
    WAIT_FOR(status() & VIRTIO_CONFIG_S_NEEDS_RESET);
    ck_assert_uint_eq(unit_mmio_read(&bus, isr, 1), VIRTIO_PCI_ISR_CONFIG);
    set_status(0);
    ck_assert_uint_eq(status(), 0);
    g_unlink(wrapper);
    g_unlink(pidfile);
}
END_TEST

START_TEST(daemon_that_cannot_start)
{
    GError *err = NULL;

    g_setenv("VMM_VIRTIOFSD", "/bin/false", TRUE);
    ck_assert(!realize(dir, false, &err));
    ck_assert_msg(g_str_has_prefix(err->message, "share unit-tag: vhost-user GET_FEATURES: "),
                  "%s", err->message);
    ck_assert_msg(g_str_has_suffix(err->message, "(virtiofsd exited with status 1)"), "%s",
                  err->message);
    g_clear_error(&err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("virtio-fs");
    TCase *tc = tcase_create("virtio-fs");

    signal(SIGPIPE, SIG_DFL);
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, config_and_ids);
    tcase_add_test(tc, requests_reach_the_daemon);
    tcase_add_test(tc, readonly_share_refuses_writes);
    tcase_add_test(tc, daemon_death_breaks_the_device_only);
    tcase_add_test(tc, daemon_that_cannot_start);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
