/* The config file: every mistake gets one message at the right place. */
#include <check.h>
#include <elf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"

#include "unit.h"

static char *dir;

/* Writes an ELF64 with one 16-byte PT_LOAD at @paddr spanning @memsz. */
static char *write_elf(const char *name, uint16_t machine, uint64_t paddr, uint64_t memsz)
{
    uint8_t buf[UNIT_ELF_SIZE];
    char *path = g_build_filename(dir, name, NULL);
    size_t n = unit_make_elf(buf, machine, paddr, memsz, paddr);

    ck_assert(g_file_set_contents(path, (char *)buf, n, NULL));
    return path;
}

static uint64_t image_base(void)
{
    uint64_t lo, hi;

    arch_load_window(64 << 20, 1, &lo, &hi);
    return lo;
}

static void setup(void)
{
    g_autofree char *bundled = g_strdup_printf("good-%s.elf", arch_name);

    dir = g_dir_make_tmp("vmm-config-XXXXXX", NULL);
    g_setenv("VMM_FIRMWARE_DIR", dir, TRUE);
    g_free(write_elf(bundled, arch_elf_machine(), image_base(), 0x1000));
    g_free(write_elf("good.elf", arch_elf_machine(), image_base(), 0x1000));
    g_free(write_elf("other.elf", arch_elf_machine() == EM_X86_64 ? EM_AARCH64 : EM_X86_64,
                     image_base(), 0x1000));
    g_free(write_elf("huge.elf", arch_elf_machine(), image_base(), 8 << 20));
}

static void teardown(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

    g_assert(system(cmd) == 0);
    g_free(dir);
}

/* Loads @text as "<dir>/vm.toml"; returns the error message or NULL. */
static char *load(const char *text, struct vmm_config *cfg)
{
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    GError *err = NULL;
    char *msg = NULL;

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    config_init(cfg);
    if (!config_load(cfg, path, &err)) {
        /* Messages name the file; strip the temp dir for comparison. */
        const char *m = err->message;

        if (g_str_has_prefix(m, dir))
            m += strlen(dir) + 1;
        msg = g_strdup(m);
        g_error_free(err);
    }
    return msg;
}

static void expect_error(const char *text, const char *expected)
{
    struct vmm_config cfg;
    g_autofree char *msg = load(text, &cfg);

    ck_assert_msg(msg != NULL, "accepted: %s", text);
    ck_assert_msg(strstr(msg, expected) != NULL, "message \"%s\" lacks \"%s\"", msg, expected);
    ck_assert_msg(!strchr(msg, '\n'), "message spans lines: %s", msg);
    config_clear(&cfg);
}

START_TEST(valid_config)
{
    struct vmm_config cfg;
    char *msg = load("[vm]\nname = \"demo\"\nmemory = \"64M\"\nvcpus = 4\n"
                     "[boot]\nfirmware = \"good\"\n[console]\nfile = \"out.txt\"\n", &cfg);

    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert_str_eq(cfg.name, "demo");
    ck_assert_uint_eq(cfg.memory, 64 << 20);
    ck_assert_uint_eq(cfg.vcpus, 4);
    ck_assert(g_str_has_suffix(cfg.firmware, "good-x86_64.elf") ||
              g_str_has_suffix(cfg.firmware, "good-aarch64.elf"));
    ck_assert(g_str_has_prefix(cfg.console_file, dir));
    config_clear(&cfg);

    /* Defaults: name from the file, 128 MiB, one vCPU; memory as MiB. */
    msg = load("[boot]\nfirmware = \"good.elf\"\n", &cfg);
    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert_str_eq(cfg.name, "vm");
    ck_assert_uint_eq(cfg.memory, 128 << 20);
    ck_assert_uint_eq(cfg.vcpus, 1);
    ck_assert_ptr_null(cfg.console_file);
    config_clear(&cfg);
    msg = load("vm.memory = 256\nboot.firmware = \"good.elf\"\n", &cfg);
    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert_uint_eq(cfg.memory, 256 << 20);
    config_clear(&cfg);
}
END_TEST

START_TEST(mistakes)
{
    expect_error("[vm]\nmemroy = \"64M\"\n[boot]\nfirmware = \"good\"\n",
                 "vm.toml:2:1: unknown key \"memroy\" in [vm]; did you mean \"memory\"?");
    expect_error("[vm]\nvcpus = \"two\"\n[boot]\nfirmware = \"good\"\n",
                 "vm.toml:2:1: vm.vcpus: expected an integer, found a string");
    expect_error("[vm]\nmemory = 0\n[boot]\nfirmware = \"good\"\n",
                 "vm.toml:2:1: vm.memory: 0 MiB is too small");
    expect_error("[vm]\nmemory = \"4096G\"\n[boot]\nfirmware = \"good\"\n",
                 "vm.toml:2:1: vm.memory: 4096G is more than this host's memory");
    expect_error("[vm]\nmemory = \"lots\"\n[boot]\nfirmware = \"good\"\n",
                 "vm.memory: \"lots\" is not a size");
    expect_error("[vm]\nmemory = true\n[boot]\nfirmware = \"good\"\n",
                 "vm.memory: expected an integer (MiB) or a string");
    expect_error("[vm]\nvcpus = 0\n[boot]\nfirmware = \"good\"\n",
                 "vm.toml:2:1: vm.vcpus: 0 is out of range");
    expect_error("[vm]\nvcpus = 100000\n[boot]\nfirmware = \"good\"\n",
                 "vm.vcpus: 100000 is out of range");
    expect_error("[boot]\nfirmware = \"no-such.elf\"\n",
                 "vm.toml:2:1: boot.firmware: ");
    expect_error("[boot]\nfirmware = \"no-such.elf\"\n", "No such file or directory");
    expect_error("[boot]\nfirmware = \"nothing-by-this-name\"\n",
                 "nothing-by-this-name-");
    expect_error("[boot]\nfirmware = \"other.elf\"\n", "image is for ");
    expect_error("[vm]\nmemory = \"2M\"\n[boot]\nfirmware = \"huge.elf\"\n",
                 "does not fit in guest RAM");
    expect_error("[vm]\nname = \"a b\"\n[boot]\nfirmware = \"good\"\n", "vm.name");
    expect_error("[vm]\n", "[boot] needs firmware");
    expect_error("[machine]\nfoo = 1\n", "vm.toml:1:1: unknown section [machine]");
    expect_error("vm = 3\n", "vm: expected a table");
    expect_error("[vm]\nmemory = 64M\n", "vm.toml:2:");
    expect_error("[vm]\nvcpus = 1\nvcpus = 2\n", "vm.toml:3:");
}
END_TEST

/* One name rule for every source of a VM name: control characters (which
 * would reach log lines), spaces, slashes and leading dots/dashes are out. */
START_TEST(vm_names)
{
    static const char *const good[] = { "a", "hello", "exit3-7", "svc.1", "a_b+c:d@e",
                                        "0123456789012345678901234567890123456789012345678901234567890123" };
    static const char *const bad[] = { "", "a b", "a/b", "a\\b", "a\tb", "a\nb", "a\rb",
                                       "a\033[31m", "\x7f", ".hidden", "-rf", "caf\xc3\xa9",
                                       "01234567890123456789012345678901234567890123456789012345678901234" };
    g_autofree char *q = vm_name_quote("a\nb\033");

    for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
        ck_assert_msg(vm_name_valid(good[i]), "'%s' refused", good[i]);
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        ck_assert_msg(!vm_name_valid(bad[i]), "bad name %zu accepted", i);
    ck_assert_str_eq(q, "a\\nb\\033");
    ck_assert(!vm_name_valid(NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_config);
    tcase_add_test(tc, mistakes);
    tcase_add_test(tc, vm_names);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
