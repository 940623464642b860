/* Linux kernel images: format checks, placement limits, and the [boot]
 * kernel keys of the config. Synthetic headers, no KVM. */
#include <check.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/linux.h"

#include "unit.h"

static bool is_x86(void)
{
    return !strcmp(arch_name, "x86_64");
}

/* A bzImage header: 4 setup sectors, protocol 2.15, 64-bit, preferred
 * address 16 MiB, @init_size bytes at run time; @payload bytes of kernel. */
static uint8_t *fake_bzimage(size_t payload, uint32_t init_size, uint16_t version,
                             size_t *size)
{
    size_t setup = 5 * 512;
    uint8_t *d = g_malloc0(setup + payload);
    uint16_t flag = 0xaa55, xlf = 1;
    uint32_t cmdline_size = 2047, initrd_max = 0x7fffffff;
    uint64_t pref = 16 << 20;

    d[0x1f1] = 4;
    memcpy(d + 0x1fe, &flag, 2);
    d[0x201] = 0x6a;                 /* header ends at 0x26c */
    memcpy(d + 0x202, "HdrS", 4);
    memcpy(d + 0x206, &version, 2);
    d[0x211] = 0x01;                 /* LOADED_HIGH */
    memcpy(d + 0x22c, &initrd_max, 4);
    memcpy(d + 0x236, &xlf, 2);
    memcpy(d + 0x238, &cmdline_size, 4);
    memcpy(d + 0x258, &pref, 8);
    memcpy(d + 0x260, &init_size, 4);
    *size = setup + payload;
    return d;
}

/* An arm64 Image header: text_offset 0, image_size @image_size. */
static uint8_t *fake_image(size_t file, uint64_t image_size, size_t *size)
{
    uint8_t *d = g_malloc0(MAX(file, 64));

    memcpy(d + 16, &image_size, 8);
    memcpy(d + 56, "ARM\x64", 4);
    *size = MAX(file, 64);
    return d;
}

/* arch_linux_check on @data; NULL when accepted, else the message. */
static char *check(uint8_t *data, size_t size, size_t initrd, uint64_t ram)
{
    struct linux_image li = { .kernel_path = g_strdup("k"), .kernel = data, .kernel_size = size };
    GError *err = NULL;
    char *msg = NULL;

    if (initrd) {
        li.initrd_path = g_strdup("i");
        li.initrd = g_malloc0(initrd);
        li.initrd_size = initrd;
    }
    if (!arch_linux_check(&li, ram, 1, &err)) {
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    linux_image_clear(&li);
    return msg;
}

/* (The image is built before its size is read: argument order is unspecified.) */
static char *check_bz(size_t payload, uint32_t init_size, uint16_t version, size_t initrd,
                      uint64_t ram)
{
    size_t n;
    uint8_t *d = fake_bzimage(payload, init_size, version, &n);

    return check(d, n, initrd, ram);
}

static char *check_img(size_t file, uint64_t image_size, size_t initrd, uint64_t ram)
{
    size_t n;
    uint8_t *d = fake_image(file, image_size, &n);

    return check(d, n, initrd, ram);
}

#define expect_ok(msg) do { char *m_ = (msg); ck_assert_msg(!m_, "refused: %s", m_); } while (0)
#define expect_err(msg, words) do { char *m_ = (msg); \
    ck_assert_msg(m_ && strstr(m_, words), "\"%s\" lacks \"%s\"", m_ ? m_ : "(accepted)", words); \
    ck_assert(!strchr(m_, '\n')); g_free(m_); } while (0)

START_TEST(formats)
{
    size_t n;
    g_autofree uint8_t *bz = fake_bzimage(4096, 1 << 20, 0x20f, &n);
    g_autofree uint8_t *img = fake_image(4096, 1 << 20, &n);
    const uint8_t elf[] = "\177ELF....", gz[] = "\x1f\x8b\x08";

    ck_assert(strstr(linux_guess_format(bz, 5 * 512 + 4096), "bzImage"));
    ck_assert(strstr(linux_guess_format(img, 4096), "arm64 Image"));
    ck_assert(strstr(linux_guess_format(elf, sizeof(elf)), "ELF"));
    ck_assert(strstr(linux_guess_format(gz, sizeof(gz)), "gzip"));
    ck_assert_ptr_null(linux_guess_format((const uint8_t *)"hello", 5));
}
END_TEST

START_TEST(x86_bzimage)
{
    if (!is_x86())
        return;
    expect_ok(check_bz(4096, 8 << 20, 0x20f, 0, 64 << 20));
    /* 16 MiB + 8 MiB of kernel, 39 MiB of initrd and a 4 KiB ucall
     * structure: 64 MiB fit, 63 do not */
    expect_ok(check_bz(4096, 8 << 20, 0x20f, 39 << 20, 64 << 20));
    expect_err(check_bz(4096, 8 << 20, 0x20f, 39 << 20, 63 << 20),
               "initrd: i: 39 MiB do not fit in 63 MiB");
    expect_err(check_bz(4096, 64 << 20, 0x20f, 0, 64 << 20),
               "kernel: k: too large for 64 MiB of RAM");
    expect_err(check_bz(4096, 1 << 20, 0x206, 0, 64 << 20),
               "boot protocol 2.06 is too old");
    expect_err(check_img(4096, 1 << 20, 0, 64 << 20),
               "kernel: k: not a bzImage (an arm64 Image)");
    expect_err(check(g_malloc0(8192), 8192, 0, 64 << 20), "kernel: k: not a bzImage");
    expect_err(check_bz(4096, 1 << 20, 0x20f, 0, 4ULL << 30),
               "up to 3072 MiB");
}
END_TEST

START_TEST(arm64_image)
{
    if (is_x86())
        return;
    expect_ok(check_img(4096, 8 << 20, 0, 64 << 20));
    expect_ok(check(g_memdup2("raw code", 8), 8, 0, 64 << 20)); /* a raw binary */
    /* 62 MiB below the device tree: 8 MiB of kernel and 50 of initrd fit */
    expect_ok(check_img(4096, 8 << 20, 50 << 20, 64 << 20));
    expect_err(check_img(4096, 8 << 20, 60 << 20, 64 << 20),
               "initrd: i: 60 MiB do not fit");
    expect_err(check_img(4096, 63 << 20, 0, 64 << 20),
               "kernel: k: too large for 64 MiB of RAM");
    expect_err(check_bz(4096, 1 << 20, 0x20f, 0, 64 << 20),
               "not an arm64 Image (an x86 bzImage)");
    expect_err(check(g_memdup2("\177ELF\2\1\1", 8), 8, 0, 64 << 20), "not an arm64 Image (an ELF");
}
END_TEST

static char *dir;

/* config_parse on @text; the error message (temp dir stripped) or NULL. */
static char *parse(const char *text, struct vmm_config *cfg)
{
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    GError *err = NULL;
    char *msg = NULL;

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    config_init(cfg);
    if (!config_parse(cfg, path, &err)) {
        msg = g_strdup(err->message + (g_str_has_prefix(err->message, dir) ? strlen(dir) + 1 : 0));
        g_error_free(err);
    }
    return msg;
}

START_TEST(config_kernel_keys)
{
    struct vmm_config cfg;
    char *msg;

    dir = g_dir_make_tmp("vmm-linux-XXXXXX", NULL);
    msg = parse("[boot]\nkernel = \"bzImage\"\ninitrd = \"/abs/initrd\"\ncmdline = \"quiet\"\n", &cfg);
    ck_assert_msg(!msg, "%s", msg);
    ck_assert(g_str_has_prefix(cfg.boot_linux.kernel_path, dir));
    ck_assert_str_eq(cfg.boot_linux.initrd_path, "/abs/initrd");
    ck_assert_str_eq(cfg.boot_linux.cmdline, "quiet");
    ck_assert_ptr_null(cfg.firmware);
    config_clear(&cfg);

    msg = parse("[boot]\nfirmware = \"hello\"\nkernel = \"bzImage\"\n", &cfg);
    ck_assert(msg && strstr(msg, "vm.toml:3:1: boot.kernel: [boot] has both firmware and kernel"));
    g_free(msg);
    config_clear(&cfg);
    msg = parse("[boot]\nfirmware = \"hello\"\ninitrd = \"i\"\n", &cfg);
    ck_assert(msg && strstr(msg, "boot.initrd: only for a kernel"));
    g_free(msg);
    config_clear(&cfg);

    /* A missing kernel is reported at its key once the images are read. */
    msg = parse("[boot]\nkernel = \"nope\"\n", &cfg);
    ck_assert(!msg);
    {
        GError *err = NULL;

        ck_assert(!config_finish(&cfg, &err));
        ck_assert_msg(strstr(err->message, "vm.toml:2:1: boot.kernel: ") &&
                      strstr(err->message, "No such file"), "%s", err->message);
        g_error_free(err);
    }
    config_clear(&cfg);
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

        ck_assert(system(cmd) == 0);
    }
}
END_TEST

START_TEST(overrides)
{
    struct vmm_config cfg;
    GError *err = NULL;

    config_init(&cfg);
    ck_assert(config_set_memory(&cfg, "--memory", "512M", &err));
    ck_assert_uint_eq(cfg.memory, 512 << 20);
    ck_assert(!config_set_memory(&cfg, "--memory", "12X", &err));
    ck_assert(strstr(err->message, "--memory: \"12X\" is not a size"));
    g_clear_error(&err);
    ck_assert(!config_set_memory(&cfg, "--memory", "1K", &err));
    ck_assert(strstr(err->message, "too small"));
    g_clear_error(&err);
    ck_assert(config_set_vcpus(&cfg, "--cpus", "2", &err));
    ck_assert_uint_eq(cfg.vcpus, 2);
    ck_assert(!config_set_vcpus(&cfg, "--cpus", "0", &err));
    g_clear_error(&err);
    ck_assert(!config_set_vcpus(&cfg, "--cpus", "2x", &err));
    g_clear_error(&err);
    config_clear(&cfg);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("linux");
    TCase *tc = tcase_create("linux");

    tcase_add_test(tc, formats);
    tcase_add_test(tc, x86_bzimage);
    tcase_add_test(tc, arm64_image);
    tcase_add_test(tc, config_kernel_keys);
    tcase_add_test(tc, overrides);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
