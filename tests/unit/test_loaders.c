/* The loaders against hostile files: header fields whose sums wrap,
 * unaligned program headers, bss-only segments, files that are no regular
 * file. Crafted images, no KVM. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/linux.h"
#include "vmm/loader.h"

#include "unit.h"

static bool is_x86(void)
{
    return !strcmp(arch_name, "x86_64");
}

/* arch_linux_check on a copy of @data with 1 vCPU; NULL or the message. */
static char *check_kernel(const uint8_t *data, size_t size, uint64_t ram)
{
    struct linux_image li = {
        .kernel_path = g_strdup("k"), .kernel = g_memdup2(data, size), .kernel_size = size,
    };
    GError *err = NULL;
    char *msg = NULL;

    if (!arch_linux_check(&li, ram, 1, &err)) {
        msg = g_strdup(err->message);
        g_error_free(err);
    }
    linux_image_clear(&li);
    return msg;
}

#define expect_refused(msg, words) do { char *m_ = (msg); \
    ck_assert_msg(m_ && strstr(m_, words), "\"%s\" lacks \"%s\"", m_ ? m_ : "(accepted)", words); \
    ck_assert(!strchr(m_, '\n')); g_free(m_); } while (0)
#define expect_accepted(msg) do { char *m_ = (msg); \
    ck_assert_msg(!m_, "refused: %s", m_); } while (0)

START_TEST(bzimage_address_wraps)
{
    uint8_t d[5 * 512 + 4096];
    size_t n;

    if (!is_x86())
        return;
    n = unit_make_bzimage(d, 16 << 20, 1 << 20);
    expect_accepted(check_kernel(d, n, 64 << 20));
    /* pref_address + init_size wraps past 2^64 to a small number */
    n = unit_make_bzimage(d, -(1ULL << 20), 2 << 20);
    expect_refused(check_kernel(d, n, 64 << 20), "kernel: k:");
    n = unit_make_bzimage(d, UINT64_MAX - 100, 1 << 20);
    expect_refused(check_kernel(d, n, 64 << 20), "kernel: k:");
    /* a header whose jump says it ends before pref_address and init_size */
    n = unit_make_bzimage(d, 16 << 20, 1 << 20);
    d[0x201] = 0x40;
    expect_refused(check_kernel(d, n, 64 << 20), "kernel: k:");
}
END_TEST

START_TEST(arm64_image_size_wraps)
{
    uint8_t d[4096] = { 0 };
    uint64_t text_offset = 0, image_size = 8 << 20;

    if (is_x86())
        return;
    memcpy(d + 56, "ARM\x64", 4);
    memcpy(d + 8, &text_offset, 8);
    memcpy(d + 16, &image_size, 8);
    expect_accepted(check_kernel(d, sizeof(d), 64 << 20));
    /* text_offset + image_size wraps */
    text_offset = 1 << 20;
    image_size = -(1ULL << 20) - 0x40000000ULL + 4096;
    memcpy(d + 8, &text_offset, 8);
    memcpy(d + 16, &image_size, 8);
    expect_refused(check_kernel(d, sizeof(d), 64 << 20), "kernel: k:");
    image_size = UINT64_MAX;
    memcpy(d + 16, &image_size, 8);
    expect_refused(check_kernel(d, sizeof(d), 64 << 20), "kernel: k:");
}
END_TEST

/* The window firmware images get in 64 MiB with one vCPU. */
static struct load_target window(void)
{
    struct load_target t = { .e_machine = arch_elf_machine() };

    arch_load_window(64 << 20, 1, &t.lo, &t.hi);
    return t;
}

START_TEST(elf_phdr_unaligned)
{
    struct load_target t = window();
    uint8_t buf[1 + UNIT_ELF_SIZE + 8];
    Elf64_Ehdr eh;
    uint64_t entry;
    GError *err = NULL;
    size_t n;

    /* Program headers at an odd offset: read without unaligned access
     * (UBSan reports the old direct dereference). */
    n = unit_make_elf(buf, arch_elf_machine(), t.lo, 4096, t.lo);
    memmove(buf + sizeof(eh) + 1, buf + sizeof(eh), n - sizeof(eh));
    memcpy(&eh, buf, sizeof(eh));
    eh.e_phoff = sizeof(eh) + 1;
    memcpy(buf, &eh, sizeof(eh));
    {
        Elf64_Phdr ph;

        memcpy(&ph, buf + eh.e_phoff, sizeof(ph));
        ph.p_offset += 1;
        memcpy(buf + eh.e_phoff, &ph, sizeof(ph));
    }
    ck_assert_msg(elf_load("odd.elf", buf, n + 1, &t, &entry, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(entry, t.lo);
}
END_TEST

START_TEST(elf_bss_only_segment)
{
    struct load_target t = window();
    uint8_t buf[UNIT_ELF_SIZE + sizeof(Elf64_Phdr)];
    uint8_t *ram = g_malloc(t.hi - arch_ram_base());
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    uint64_t entry;
    GError *err = NULL;
    size_t n = unit_make_elf(buf, arch_elf_machine(), t.lo, 4096, t.lo);

    /* A second, bss-only segment whose file offset lies past the end of
     * the file, as GNU ld writes for small images: nothing to read, so
     * it is accepted and zero-filled. */
    memcpy(&eh, buf, sizeof(eh));
    memcpy(&ph[0], buf + eh.e_phoff, sizeof(ph[0]));
    memmove(buf + eh.e_phoff + 2 * sizeof(ph[0]), buf + eh.e_phoff + sizeof(ph[0]), 16);
    ph[0].p_offset += sizeof(ph[0]);
    ph[1] = ph[0];
    ph[1].p_paddr = ph[1].p_vaddr = t.lo + 0x10000;
    ph[1].p_offset = 0x20000;
    ph[1].p_filesz = 0;
    ph[1].p_memsz = 0x3000;
    memcpy(buf + eh.e_phoff, ph, sizeof(ph));
    eh.e_phnum = 2;
    memcpy(buf, &eh, sizeof(eh));
    n += sizeof(ph[0]);

    ck_assert_msg(elf_load("bss.elf", buf, n, &t, &entry, &err), "%s", err ? err->message : "");
    /* and loaded: file bytes, then zeros */
    t.ram = ram;
    t.ram_gpa = arch_ram_base();
    memset(ram, 0x55, t.hi - arch_ram_base());
    ck_assert(elf_load("bss.elf", buf, n, &t, &entry, &err));
    ck_assert_uint_eq(ram[t.lo - arch_ram_base()], 0xab);
    ck_assert_uint_eq(ram[t.lo - arch_ram_base() + 16], 0);
    ck_assert_uint_eq(ram[t.lo - arch_ram_base() + 0x10000], 0);
    ck_assert_uint_eq(ram[t.lo - arch_ram_base() + 0x12fff], 0);
    ck_assert_uint_eq(ram[t.lo - arch_ram_base() + 0x13000], 0x55);
    /* a segment with file bytes past the end is still refused */
    ph[1].p_filesz = 1;
    memcpy(buf + eh.e_phoff, ph, sizeof(ph));
    ck_assert(!elf_load("bss.elf", buf, n, &t, &entry, &err));
    ck_assert(strstr(err->message, "outside the file"));
    g_clear_error(&err);
    g_free(ram);
}
END_TEST

/* image_read on a FIFO nobody writes: refused at once, never blocked on. */
START_TEST(image_read_fifo)
{
    g_autofree char *dir = g_dir_make_tmp("vmm-fifo-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "fifo", NULL);
    uint8_t *data = NULL;
    size_t size;
    GError *err = NULL;

    ck_assert_int_eq(mkfifo(path, 0600), 0);
    alarm(10); /* a blocked open fails the test rather than hanging it */
    ck_assert(!image_read(path, 64 << 20, &data, &size, &err));
    alarm(0);
    ck_assert_msg(strstr(err->message, "not a regular file"), "%s", err->message);
    ck_assert(!strchr(err->message, '\n'));
    g_clear_error(&err);
    ck_assert(!image_read(dir, 64 << 20, &data, &size, &err));
    ck_assert_msg(strstr(err->message, "not a regular file"), "%s", err->message);
    g_clear_error(&err);
    g_unlink(path);
    g_rmdir(dir);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("loaders");
    TCase *tc = tcase_create("loaders");

    tcase_add_test(tc, bzimage_address_wraps);
    tcase_add_test(tc, arm64_image_size_wraps);
    tcase_add_test(tc, elf_phdr_unaligned);
    tcase_add_test(tc, elf_bss_only_segment);
    tcase_add_test(tc, image_read_fifo);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
