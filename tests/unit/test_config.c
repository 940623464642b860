/* The config file: every mistake gets one message at the right place. */
#include <check.h>
#include <elf.h>
#include <glib/gstdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/manager.h"
#include "vmm/schema.h"
#include "vmm/worker.h"

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

/* @err's message (NULL: none) without the temp dir files are named by;
 * frees @err. */
static char *message_of(GError *err)
{
    const char *m;
    char *msg;

    if (!err)
        return NULL;
    m = err->message;
    if (g_str_has_prefix(m, dir))
        m += strlen(dir) + 1;
    msg = g_strdup(m);
    g_error_free(err);
    return msg;
}

/* @input was refused with one line saying @expected. */
static void assert_refused(const char *msg, const char *input, const char *expected)
{
    ck_assert_msg(msg != NULL, "accepted: %s", input);
    ck_assert_msg(strstr(msg, expected) != NULL, "message \"%s\" lacks \"%s\"", msg, expected);
    ck_assert_msg(!strchr(msg, '\n'), "message spans lines: %s", msg);
}

/* Loads @text as "<dir>/vm.toml"; returns the error message or NULL. */
static char *load(const char *text, struct vmm_config *cfg)
{
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    GError *err = NULL;

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    config_init(cfg);
    config_load(cfg, path, &err);
    return message_of(err);
}

static void expect_error(const char *text, const char *expected)
{
    struct vmm_config cfg;
    g_autofree char *msg = load(text, &cfg);

    assert_refused(msg, text, expected);
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

/* The same document as JSON (vm-create's inline config): read directly,
 * with the file's checks and messages naming the member path. */
static char *load_json(const char *json, struct vmm_config *cfg)
{
    g_autoptr(JsonNode) n = json_from_string(json, NULL);
    GError *err = NULL;

    ck_assert_msg(n != NULL, "bad test JSON: %s", json);
    config_init(cfg);
    config_load_json(cfg, n, "config", &err);
    return message_of(err);
}

static void expect_json_error(const char *json, const char *expected)
{
    struct vmm_config cfg;
    g_autofree char *msg = load_json(json, &cfg);

    assert_refused(msg, json, expected);
    config_clear(&cfg);
}

START_TEST(json_config)
{
    struct vmm_config cfg;
    g_autofree char *fw = g_build_filename(dir, "good.elf", NULL);
    g_autofree char *json = g_strdup_printf(
        "{\"vm\": {\"name\": \"j\", \"memory\": 32, \"vcpus\": 3}, \"boot\": {\"firmware\": \"%s\"},"
        " \"policy\": {\"role\": \"service\", \"flags\": [\"info\", \"ucall\"],"
        " \"services\": {\"vendor-hyp\": [\"vmm-info\"]}}, \"security\": {\"seccomp\": false}}", fw);
    char *msg = load_json(json, &cfg);

    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert_str_eq(cfg.name, "j");
    ck_assert_uint_eq(cfg.memory, 32 << 20);
    ck_assert_uint_eq(cfg.vcpus, 3);
    ck_assert_str_eq(cfg.firmware, fw);
    ck_assert_int_eq(cfg.policy.role, VM_ROLE_SERVICE);
    ck_assert_uint_eq(cfg.policy.flags, GUEST_FLAG(GUEST_FLAG_INFO) | GUEST_FLAG(GUEST_FLAG_UCALL));
    ck_assert(cfg.policy.services & SVC_BIT(SVC_VMM_INFO));
    ck_assert(!(cfg.policy.services & SVC_BIT(SVC_VMM_UCALL)));
    ck_assert(!cfg.seccomp);
    ck_assert(cfg.policy.may_call);
    config_clear(&cfg);

    expect_json_error("{\"vm\": {\"vcpus\": \"two\"}, \"boot\": {\"firmware\": \"good\"}}",
                      "config.vm.vcpus: expected an integer, found a string");
    expect_json_error("{\"vm\": {\"vcpus\": 0}, \"boot\": {\"firmware\": \"good\"}}",
                      "config.vm.vcpus: 0 is out of range (1 to 4096)");
    expect_json_error("{\"vm\": {\"vcpus\": 2.5}}", "config.vm.vcpus: expected an integer, found a number");
    expect_json_error("{\"vm\": {\"memroy\": \"64M\"}}",
                      "unknown key 'memroy' in 'config.vm'; did you mean 'memory'?");
    expect_json_error("{\"vm\": {\"memory\": 1}}", "config.vm.memory: 1 MiB is too small");
    expect_json_error("{\"vm\": {\"memory\": \"lots\"}}", "config.vm.memory: 'lots' is not a size");
    expect_json_error("{\"vm\": {\"name\": null}}", "config.vm.name: expected a string, found null");
    expect_json_error("{\"vm\": {\"name\": \"a\\nb\"}}",
                      "config.vm.name: 'a\\nb' is not a VM name (" VM_NAME_RULE ")");
    expect_json_error("{\"vm\": 3}", "config.vm: expected an object, found an integer");
    expect_json_error("{\"nope\": {}}", "unknown section 'nope' in 'config' (known: 'vm', 'boot'");
    expect_json_error("{\"policy\": {\"flags\": [\"info\", \"root\"]}}",
                      "config.policy.flags[1]: unknown guest flag 'root' (known: 'info', 'console', 'ucall')");
    expect_json_error("{\"policy\": {\"role\": \"god\"}}",
                      "config.policy.role: 'god' is not a role ('service' or 'restricted')");
    expect_json_error("{\"policy\": {\"services\": {\"standard\": [\"vmm-info\"]}}}",
                      "config.policy.services.standard[0]: 'vmm-info' is not a standard service");
    expect_json_error("{\"policy\": {\"services\": {\"secure\": []}}}",
                      "unknown key 'secure' in 'config.policy.services'");
    expect_json_error("{\"boot\": {\"firmware\": \"good\", \"kernel\": \"k\"}}",
                      "config.boot.kernel: [boot] has both firmware and kernel");
    expect_json_error("{\"boot\": {\"cmdline\": \"quiet\"}}",
                      "config.boot.cmdline: only for a kernel");
    expect_json_error("{\"boot\": {\"firmware\": \"no-such.elf\"}}",
                      "config.boot.firmware: ./no-such.elf: No such file");
    expect_json_error("{}", "config: [boot] needs firmware");
    expect_json_error("[]", "config: expected an object, found an array");
}
END_TEST

/* set-policy's arguments: the members given change the policy, with
 * [policy]'s checks; other members (the command's "vm") are not looked at. */
START_TEST(json_policy)
{
    struct vm_policy p;
    g_autoptr(JsonNode) ok = json_from_string(
        "{\"vm\": \"a\", \"flags\": [\"console\"], \"services\": {\"standard\": []}}", NULL);
    g_autoptr(JsonNode) bad = json_from_string("{\"flags\": [\"info\", 3]}", NULL);
    g_autoptr(JsonNode) badrole = json_from_string("{\"role\": 5}", NULL);
    GError *err = NULL;

    policy_init(&p);
    p.role = VM_ROLE_SERVICE;
    ck_assert_msg(policy_from_json(&p, json_node_get_object(ok), &err), "%s", err->message);
    ck_assert_int_eq(p.role, VM_ROLE_SERVICE); /* absent: kept */
    ck_assert_uint_eq(p.flags, GUEST_FLAG(GUEST_FLAG_CONSOLE));
    ck_assert(!(p.services & SVC_BIT(SVC_TRNG)));
    ck_assert(p.services & SVC_BIT(SVC_VMM_INFO));
    ck_assert(!policy_from_json(&p, json_node_get_object(bad), &err));
    ck_assert_str_eq(err->message, "flags[1]: expected strings, found an integer");
    g_clear_error(&err);
    ck_assert(!policy_from_json(&p, json_node_get_object(badrole), &err));
    ck_assert_str_eq(err->message, "role: expected a string, found an integer");
    g_clear_error(&err);
}
END_TEST

/* The run options, from the same table: messages name the option. */
START_TEST(options)
{
    struct vmm_config cfg;
    GError *err = NULL;
    g_autofree char *usage = config_options_usage();
    static const struct { const char *option, *value, *message; } bad[] = {
        { "--cpus", "0", "--cpus: \"0\" is not a vCPU count (1 to 4096)" },
        { "--cpus", "2x", "--cpus: \"2x\" is not a vCPU count (1 to 4096)" },
        { "--cpus", "-1", "--cpus: \"-1\" is not a vCPU count (1 to 4096)" },
        { "--memory", "lots", "--memory: \"lots\" is not a size (such as 512M or 2G)" },
        { "--memory", "1M", "--memory: 1M is too small: a VM needs at least 2 MiB" },
        { "--memory", "3000001K", "--memory: 3000001K is not a whole number of MiB" },
        { "--initrd", "x.cpio", "--initrd needs a kernel (--kernel)" },
        { "--append", "quiet", "--append needs a kernel (--kernel)" },
        { "--vcpus", "1", "unknown option --vcpus" },
        { "--status-line", "yes", "--status-line: \"yes\" is not on or off" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        config_init(&cfg);
        ck_assert_msg(!config_set_option(&cfg, bad[i].option, bad[i].value, &err), "%s %s",
                      bad[i].option, bad[i].value);
        ck_assert_str_eq(err->message, bad[i].message);
        g_clear_error(&err);
        config_clear(&cfg);
    }
    /* Over a file: the options win, --kernel replaces its firmware. */
    ck_assert_ptr_null(load("[vm]\nvcpus = 2\n[boot]\nfirmware = \"good\"\n", &cfg));
    ck_assert(config_set_option(&cfg, "--cpus", "3", &err));
    ck_assert_str_eq(cfg.vcpus_at, "--cpus");
    ck_assert(config_set_option(&cfg, "--memory", "2G", &err));
    ck_assert(config_set_option(&cfg, "--kernel", "bz", &err));
    ck_assert(config_set_option(&cfg, "--initrd", "i.cpio", &err));
    ck_assert(config_set_option(&cfg, "--append", "quiet", &err));
    ck_assert(config_set_option(&cfg, "--console", "c.txt", &err));
    ck_assert(!cfg.status_line); /* off unless asked for */
    ck_assert(config_set_option(&cfg, "--status-line", "on", &err));
    ck_assert(cfg.status_line);
    ck_assert_uint_eq(cfg.vcpus, 3);
    ck_assert_uint_eq(cfg.memory, 2ULL << 30);
    ck_assert_ptr_null(cfg.firmware);
    ck_assert_ptr_null(cfg.firmware_at);
    ck_assert_str_eq(cfg.boot_linux.kernel_path, "bz");
    ck_assert_str_eq(cfg.boot_linux.initrd_path, "i.cpio");
    ck_assert_str_eq(cfg.boot_linux.cmdline, "quiet");
    ck_assert_str_eq(cfg.console_file, "c.txt");
    config_clear(&cfg);
    /* The file's key, and the option over it. */
    ck_assert_ptr_null(load("[boot]\nfirmware = \"good\"\n[console]\nstatus-line = true\n", &cfg));
    ck_assert(cfg.status_line);
    ck_assert(config_set_option(&cfg, "--status-line", "off", &err));
    ck_assert(!cfg.status_line);
    config_clear(&cfg);
    /* Every option has its usage line, in the documented order. */
    for (const char *const *o = config_options; *o; o++)
        ck_assert_msg(strstr(usage, *o), "usage lacks %s", *o);
    ck_assert(g_str_has_prefix(usage, "  --kernel FILE     boot this Linux kernel"));
    ck_assert(strstr(usage, "\n  --cpus N          number of vCPUs\n"));
}
END_TEST

/* [[share]] tables, --share, config_add_share() (vmm run --host-root's
 * way in), their tags, and the worker's copy of them. */
START_TEST(shares)
{
    struct vmm_config cfg, again;
    GError *err = NULL;
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    g_autofree char *json = NULL;
    g_autoptr(JsonNode) node = NULL;

    ck_assert(g_file_set_contents(path, "[boot]\nkernel = \"bz\"\n"
                                  "[[share]]\npath = \"src dir\"\n"
                                  "[[share]]\npath = \"/abs/data\"\ntag = \"d-1\"\n"
                                  "readonly = true\n", -1, NULL));
    config_init(&cfg);
    ck_assert_msg(config_parse(&cfg, path, &err), "%s", err ? err->message : "");
    ck_assert_uint_eq(cfg.nr_shares, 2);
    ck_assert(g_str_has_prefix(cfg.shares[0].path, dir)); /* relative to the file */
    ck_assert(g_str_has_suffix(cfg.shares[0].path, "/src dir"));
    ck_assert_str_eq(cfg.shares[0].tag, "src_dir"); /* the base name, made a tag */
    ck_assert(!cfg.shares[0].readonly);
    ck_assert_str_eq(cfg.shares[1].path, "/abs/data");
    ck_assert_str_eq(cfg.shares[1].tag, "d-1");
    ck_assert(cfg.shares[1].readonly);
    /* --share DIR[:TAG][,ro]; a colon before a slash is the folder's. */
    ck_assert(config_set_option(&cfg, "--share", "/x:y/z,ro", &err));
    ck_assert_str_eq(cfg.shares[2].path, "/x:y/z");
    ck_assert_str_eq(cfg.shares[2].tag, "z");
    ck_assert(cfg.shares[2].readonly);
    ck_assert(!config_set_option(&cfg, "--share", "/other/z", &err));
    ck_assert_str_eq(err->message, "--share /other/z: tag \"z\" is taken by share /x:y/z; "
                     "give each share its own tag");
    g_clear_error(&err);
    ck_assert(!config_set_option(&cfg, "--share", "/w:bad tag", &err));
    ck_assert(strstr(err->message, "is not a share tag"));
    g_clear_error(&err);
    ck_assert(!config_set_option(&cfg, "--share", ":t", &err));
    ck_assert(strstr(err->message, "names no folder"));
    g_clear_error(&err);
    ck_assert(config_set_option(&cfg, "--share", "w:t2", &err));
    ck_assert_str_eq(cfg.shares[3].path, "w");
    ck_assert_str_eq(cfg.shares[3].tag, "t2");
    ck_assert(!cfg.shares[3].readonly);

    /* The worker reads exactly these shares back. */
    json = worker_config_json(&cfg);
    node = json_from_string(json, NULL);
    config_init(&again);
    ck_assert_msg(cfg_read_json(config_keys, node, "config", &again, NULL, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(again.nr_shares, 4);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_str_eq(again.shares[i].path, cfg.shares[i].path);
        ck_assert_str_eq(again.shares[i].tag, cfg.shares[i].tag);
        ck_assert_int_eq(again.shares[i].readonly, cfg.shares[i].readonly);
    }
    config_clear(&again);
    ck_assert(!config_add_share(&cfg, "/five", NULL, false, &err));
    ck_assert_str_eq(err->message, "share /five: at most 4 shares");
    g_clear_error(&err);
    config_clear(&cfg);

    /* The host's root, as --host-root adds it. */
    config_init(&cfg);
    ck_assert(config_add_share(&cfg, "/", NULL, true, &err));
    ck_assert_str_eq(cfg.shares[0].tag, "root");
    ck_assert(config_add_share(&cfg, "/a", "hostroot", false, &err));
    ck_assert(!config_add_share(&cfg, "/b", "", false, &err));
    g_clear_error(&err);
    ck_assert(!config_add_share(&cfg, "/b", "0123456789012345678901234567890123456", false,
                                &err));
    g_clear_error(&err);
    ck_assert(config_add_share(&cfg, "/b", "012345678901234567890123456789012345", false,
                               &err));
    config_clear(&cfg);
    {
        g_autofree char *t = config_share_tag("/a/very-long-folder-name-beyond-36-bytes-x");

        ck_assert_uint_eq(strlen(t), 36);
    }

    expect_error("[boot]\nkernel = \"bz\"\n[[share]]\ntag = \"t\"\n",
                 "[[share]] needs path");
    expect_error("[boot]\nkernel = \"bz\"\n[[share]]\npath = \"x\"\ntag = \"a b\"\n",
                 "share[0].tag: \"a b\" is not a share tag");
    expect_error("[boot]\nkernel = \"bz\"\n[[share]]\npath = \"a/x\"\n"
                 "[[share]]\npath = \"b/x\"\n",
                 "vm.toml:5:1: share[1]: tag \"x\" is taken by share a/x");
    expect_error("[boot]\nfirmware = \"good\"\n[[share]]\npath = \"x\"\n",
                 "shares are for Linux boots");
    expect_json_error("{\"boot\": {\"kernel\": \"bz\"}, \"share\": [{\"path\": 1}]}",
                      "config.share[0].path: expected a string");
}
END_TEST

/* [[disk]] tables, their JSON form, --disk, and the worker's copy of them. */
START_TEST(disks)
{
    struct vmm_config cfg, again;
    GError *err = NULL;
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    g_autofree char *json = NULL;
    g_autoptr(JsonNode) node = NULL;
    GString *nine = g_string_new("[boot]\nkernel = \"bz\"\n");

    ck_assert(g_file_set_contents(path, "[boot]\nkernel = \"bz\"\n"
                                  "[[disk]]\npath = \"a.img\"\n"
                                  "[[disk]]\npath = \"/abs/b.img\"\nreadonly = true\n"
                                  "serial = \"SN-0123456789abcdefg\"\n", -1, NULL));
    config_init(&cfg);
    ck_assert_msg(config_parse(&cfg, path, &err), "%s", err ? err->message : "");
    ck_assert_uint_eq(cfg.nr_disks, 2);
    ck_assert(g_str_has_prefix(cfg.disks[0].path, dir)); /* relative to the file */
    ck_assert(g_str_has_suffix(cfg.disks[0].path, "/a.img"));
    ck_assert(!cfg.disks[0].readonly);
    ck_assert_ptr_null(cfg.disks[0].serial);
    ck_assert_str_eq(cfg.disks[1].path, "/abs/b.img");
    ck_assert(cfg.disks[1].readonly);
    ck_assert_str_eq(cfg.disks[1].serial, "SN-0123456789abcdefg");
    /* --disk adds after the file's, relative to the current folder. */
    ck_assert(config_set_option(&cfg, "--disk", "c.img,ro", &err));
    ck_assert(config_set_option(&cfg, "--disk", "d,ro.img", &err));
    ck_assert_uint_eq(cfg.nr_disks, 4);
    ck_assert_str_eq(cfg.disks[2].path, "c.img");
    ck_assert(cfg.disks[2].readonly);
    ck_assert_str_eq(cfg.disks[3].path, "d,ro.img");
    ck_assert(!cfg.disks[3].readonly);

    /* The worker reads exactly these disks back (else they would be lost). */
    json = worker_config_json(&cfg);
    node = json_from_string(json, NULL);
    config_init(&again);
    ck_assert_msg(cfg_read_json(config_keys, node, "config", &again, NULL, &err), "%s",
                  err ? err->message : "");
    ck_assert_uint_eq(again.nr_disks, 4);
    for (unsigned i = 0; i < 4; i++) {
        ck_assert_str_eq(again.disks[i].path, cfg.disks[i].path);
        ck_assert_int_eq(again.disks[i].readonly, cfg.disks[i].readonly);
        ck_assert_str_eq(again.disks[i].serial ? again.disks[i].serial : "-",
                         cfg.disks[i].serial ? cfg.disks[i].serial : "-");
    }
    config_clear(&again);
    for (unsigned i = 4; i < VMM_MAX_DISKS; i++)
        ck_assert(config_set_option(&cfg, "--disk", "e.img", &err));
    ck_assert(!config_set_option(&cfg, "--disk", "f.img", &err));
    ck_assert_str_eq(err->message, "--disk f.img: at most 8 disks");
    g_clear_error(&err);
    ck_assert(!config_set_option(&cfg, "--disk", ",ro", &err));
    g_clear_error(&err);
    config_clear(&cfg);

    for (unsigned i = 0; i <= VMM_MAX_DISKS; i++)
        g_string_append(nine, "[[disk]]\npath = \"x\"\n");
    expect_error(nine->str, "vm.toml:19:1: disk[8]: at most 8 disks");
    g_string_free(nine, TRUE);
    expect_error("[boot]\nkernel = \"bz\"\n[[disk]]\nreadonly = true\n", "[[disk]] needs path");
    expect_error("[boot]\nkernel = \"bz\"\n[[disk]]\npath = \"x\"\nserial = \"123456789012345678901\"\n",
                 "disk[0].serial: \"123456789012345678901\" is not a disk serial");
    expect_error("[boot]\nkernel = \"bz\"\n[[disk]]\npath = \"x\"\nserial = \"a\tb\"\n",
                 "is not a disk serial");
    expect_error("[boot]\nkernel = \"bz\"\n[[disk]]\npath = \"x\"\nsize = 3\n",
                 "unknown key \"size\"");
    expect_error("[boot]\nfirmware = \"good\"\n[[disk]]\npath = \"x\"\n",
                 "disks are for Linux boots");
    expect_json_error("{\"boot\": {\"kernel\": \"bz\"}, \"disk\": {\"path\": \"x\"}}",
                      "config.disk: expected an array");
    expect_json_error("{\"boot\": {\"kernel\": \"bz\"}, \"disk\": [{\"path\": \"x\", \"readonly\": 1}]}",
                      "config.disk[0].readonly: expected a boolean");
}
END_TEST

/* "<dir>/img.toml", a VM config the manager configs name. */
static void write_image_config(void)
{
    g_autofree char *path = g_build_filename(dir, "img.toml", NULL);

    ck_assert(g_file_set_contents(path, "[boot]\nfirmware = \"good.elf\"\n", -1, NULL));
}

/* Loads @text as the manager config "<dir>/manager.toml" into @m. */
static char *load_manager(const char *text, struct manager *m)
{
    g_autofree char *path = g_build_filename(dir, "manager.toml", NULL);
    GError *err = NULL;

    ck_assert(g_file_set_contents(path, text, -1, NULL));
    manager_init(m, &manager_kvm_backend, NULL);
    manager_load_config(m, path, &err);
    return message_of(err);
}

static void expect_manager_error(const char *text, const char *expected)
{
    struct manager m;
    g_autofree char *msg = load_manager(text, &m);

    assert_refused(msg, text, expected);
    manager_clear(&m);
}

/* [vm] pci-test-device: off by default, from the file, the option and
 * JSON; refused for firmware (no PCI bus); passed on to serve's workers. */
START_TEST(pci_test_device)
{
    struct vmm_config cfg;
    GError *err = NULL;
    g_autofree char *json = NULL;
    char *msg;

    config_init(&cfg);
    ck_assert(!cfg.pci_test_device);
    ck_assert(config_set_option(&cfg, "--pci-test-device", "on", &err));
    ck_assert(cfg.pci_test_device);
    ck_assert(!config_set_option(&cfg, "--pci-test-device", "1", &err));
    ck_assert_str_eq(err->message, "--pci-test-device: \"1\" is not on or off");
    g_clear_error(&err);
    json = worker_config_json(&cfg);
    ck_assert_msg(strstr(json, "\"pci-test-device\":true"), "%s", json);
    config_clear(&cfg);
    expect_error("[vm]\npci-test-device = 1\n[boot]\nfirmware = \"good\"\n", "pci-test-device");
    msg = load("[vm]\npci-test-device = true\n[boot]\nfirmware = \"good\"\n", &cfg);
    assert_refused(msg, "firmware", "pci-test-device needs a kernel");
    g_free(msg);
    config_clear(&cfg);
    msg = load_json("{\"vm\": {\"pci-test-device\": true}, \"boot\": {\"firmware\": \"good\"}}",
                    &cfg);
    assert_refused(msg, "firmware (JSON)", "pci-test-device needs a kernel");
    g_free(msg);
    config_clear(&cfg);
    msg = load_json("{\"vm\": {\"pci-test-device\": false}, \"boot\": {\"firmware\": \"good\"}}",
                    &cfg);
    ck_assert_ptr_null(msg);
    config_clear(&cfg);
}
END_TEST

/* [vm] gic-version and mte: their values, the worker's JSON copy, and
 * (this build being x86_64's) the refusal on another architecture. */
START_TEST(gic_version_and_mte)
{
    struct vmm_config cfg;
    GError *err = NULL;
    g_autofree char *json = NULL;
    char *msg;

    config_init(&cfg);
    ck_assert_int_eq(cfg.gic_version, 0);
    ck_assert(!cfg.mte);
    ck_assert(config_set_option(&cfg, "--gic-version", "2", &err));
    ck_assert(config_set_option(&cfg, "--mte", "on", &err));
    ck_assert_int_eq(cfg.gic_version, 2);
    ck_assert(cfg.mte);
    for (const char *const *bad = (const char *const[]){ "1", "4", "host", NULL }; *bad; bad++) {
        ck_assert(!config_set_option(&cfg, "--gic-version", *bad, &err));
        ck_assert_msg(strstr(err->message, "--gic-version"), "%s", err->message);
        g_clear_error(&err);
    }
    json = worker_config_json(&cfg);
    ck_assert_msg(strstr(json, "\"gic-version\":2") && strstr(json, "\"mte\":true"), "%s", json);
    config_clear(&cfg);
    expect_error("[vm]\ngic-version = \"3\"\n[boot]\nfirmware = \"good\"\n", "gic-version");
    expect_error("[vm]\ngic-version = 5\n[boot]\nfirmware = \"good\"\n", "gic-version");
    msg = load("[vm]\ngic-version = 3\n[boot]\nfirmware = \"good\"\n", &cfg);
    assert_refused(msg, "gic-version on x86_64", "[vm] gic-version is for aarch64 guests");
    g_free(msg);
    config_clear(&cfg);
    msg = load("[vm]\nmte = true\n[boot]\nfirmware = \"good\"\n", &cfg);
    assert_refused(msg, "mte on x86_64", "[vm] mte is for aarch64 guests");
    g_free(msg);
    config_clear(&cfg);
}
END_TEST

/* [vm] pit: on unless switched off, and the worker's JSON copy says so
 * only when it is off (the refusal on aarch64 is gic-errors' in the bed). */
START_TEST(pit_key)
{
    struct vmm_config cfg;
    GError *err = NULL;
    g_autofree char *on = NULL, *off = NULL;

    config_init(&cfg);
    ck_assert(cfg.pit);
    on = worker_config_json(&cfg);
    ck_assert_msg(!strstr(on, "\"pit\""), "%s", on);
    ck_assert(!config_set_option(&cfg, "--pit", "maybe", &err));
    ck_assert_msg(strstr(err->message, "--pit"), "%s", err->message);
    g_clear_error(&err);
    ck_assert(config_set_option(&cfg, "--pit", "off", &err));
    ck_assert(!cfg.pit);
    off = worker_config_json(&cfg);
    ck_assert_msg(strstr(off, "\"pit\":false"), "%s", off);
    config_clear(&cfg);
    expect_error("[vm]\npit = \"off\"\n[boot]\nfirmware = \"good\"\n", "pit");
}
END_TEST

/* [vm] hyperv: its value, the worker's JSON copy, and its refusals: on a
 * firmware boot (no in-kernel LAPIC for SynIC) and with a policy that
 * allows guest calls (vmcall is then KVM's, not vmm's). */
START_TEST(hyperv_key)
{
    struct vmm_config cfg;
    GError *err = NULL;
    g_autofree char *json = NULL;
    char *msg;

    config_init(&cfg);
    ck_assert(!cfg.hyperv);
    json = worker_config_json(&cfg);
    ck_assert_msg(!strstr(json, "hyperv"), "%s", json);
    g_clear_pointer(&json, g_free);
    ck_assert(config_set_option(&cfg, "--hyperv", "on", &err));
    ck_assert(cfg.hyperv);
    json = worker_config_json(&cfg);
    ck_assert_msg(strstr(json, "\"hyperv\":true"), "%s", json);
    ck_assert(!config_set_option(&cfg, "--hyperv", "maybe", &err));
    ck_assert_msg(strstr(err->message, "--hyperv"), "%s", err->message);
    g_clear_error(&err);
    ck_assert(config_set_option(&cfg, "--hyperv", "off", &err));
    ck_assert(!cfg.hyperv);
    config_clear(&cfg);
    expect_error("[vm]\nhyperv = 1\n[boot]\nfirmware = \"good\"\n", "hyperv");
    msg = load("[vm]\nhyperv = true\n[boot]\nfirmware = \"good\"\n", &cfg);
    assert_refused(msg, "hyperv on a firmware boot", "[vm] hyperv is for x86_64 kernel boots");
    g_free(msg);
    config_clear(&cfg);
    msg = load("[vm]\nhyperv = true\n[boot]\nkernel = \"good.elf\"\n[policy]\nflags = [\"info\"]\n",
               &cfg);
    assert_refused(msg, "hyperv with guest calls", "vmm's guest calls are unavailable");
    g_free(msg);
    config_clear(&cfg);
    /* Accepted on a kernel boot, and (with no call allowed) with a policy. */
    {
        uint8_t bz[5 * 512 + 4096];
        g_autofree char *bz_path = g_build_filename(dir, "bz", NULL);

        ck_assert(g_file_set_contents(bz_path, (char *)bz,
                                      unit_make_bzimage(bz, 16 << 20, 1 << 20), NULL));
    }
    msg = load("[vm]\nhyperv-test-device = true\n[boot]\nkernel = \"bz\"\n", &cfg);
    assert_refused(msg, "hyperv-test-device alone", "[vm] hyperv-test-device needs [vm] hyperv");
    g_free(msg);
    config_clear(&cfg);
    msg = load("[vm]\nhyperv = true\nhyperv-test-device = true\n[boot]\nkernel = \"bz\"\n"
               "[policy]\nrole = \"restricted\"\n", &cfg);
    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert(cfg.hyperv && cfg.hyperv_test_device);
    g_free(json);
    json = worker_config_json(&cfg);
    ck_assert_msg(strstr(json, "\"hyperv-test-device\":true"), "%s", json);
    config_clear(&cfg);
}
END_TEST

/* [vsock] cid / --vsock: the range (0, 1, 2 and -1 reserved, vhost's 32
 * bits), kernel boots only, and the worker's JSON copy keeps it. */
START_TEST(vsock_cid)
{
    struct vmm_config cfg, again;
    GError *err = NULL;
    g_autofree char *path = g_build_filename(dir, "vm.toml", NULL);
    g_autofree char *json = NULL;
    g_autoptr(JsonNode) node = NULL;
    char *msg;

    ck_assert(g_file_set_contents(path, "[boot]\nkernel = \"bz\"\n[vsock]\ncid = 0xfffffffe\n",
                                  -1, NULL));
    config_init(&cfg);
    ck_assert_msg(config_parse(&cfg, path, &err), "%s", err ? err->message : "");
    ck_assert_int_eq(cfg.vsock_cid, 0xfffffffeLL);
    json = worker_config_json(&cfg);
    node = json_from_string(json, NULL);
    config_init(&again);
    ck_assert_msg(cfg_read_json(config_keys, node, "config", &again, NULL, &err), "%s",
                  err ? err->message : "");
    ck_assert_int_eq(again.vsock_cid, 0xfffffffeLL);
    config_clear(&again);
    /* The option overrides the file. */
    ck_assert(config_set_option(&cfg, "--vsock", "3", &err));
    ck_assert_int_eq(cfg.vsock_cid, 3);
    for (unsigned i = 0; i < 5; i++) {
        static const char *const bad[] = { "0", "2", "-1", "4294967295", "cid" };

        ck_assert(!config_set_option(&cfg, "--vsock", bad[i], &err));
        ck_assert_msg(strstr(err->message, "is not a vsock CID (3 to 4294967294)"), "%s: %s",
                      bad[i], err->message);
        g_clear_error(&err);
    }
    ck_assert_int_eq(cfg.vsock_cid, 3);
    config_clear(&cfg);
    /* No CID: no vsock, and nothing in the worker's copy. */
    config_init(&cfg);
    ck_assert_int_eq(cfg.vsock_cid, 0);
    g_free(json);
    json = worker_config_json(&cfg);
    ck_assert_msg(!strstr(json, "vsock"), "%s", json);
    config_clear(&cfg);

    expect_error("[boot]\nkernel = \"bz\"\n[vsock]\ncid = 2\n", "vsock.cid: 2 is out of range");
    expect_error("[boot]\nkernel = \"bz\"\n[vsock]\ncid = -1\n", "out of range (3 to 4294967294)");
    expect_error("[boot]\nkernel = \"bz\"\n[vsock]\ncid = 4294967296\n", "out of range");
    expect_error("[boot]\nkernel = \"bz\"\n[vsock]\ncid = \"7\"\n", "vsock.cid");
    expect_error("[boot]\nkernel = \"bz\"\n[vsock]\nport = 7\n", "port");
    msg = load("[vsock]\ncid = 7\n[boot]\nfirmware = \"good\"\n", &cfg);
    assert_refused(msg, "firmware", "vsock is for Linux boots");
    g_free(msg);
    config_clear(&cfg);
    msg = load_json("{\"vsock\": {\"cid\": 1}, \"boot\": {\"kernel\": \"bz\"}}", &cfg);
    assert_refused(msg, "JSON cid 1", "config.vsock.cid: 1 is out of range");
    g_free(msg);
    config_clear(&cfg);
}
END_TEST

START_TEST(manager_config)
{
    struct manager m;
    char *msg;

    write_image_config();
    msg = load_manager("[control]\nmax-clients = 2\n[quota]\nvms = 3\nmemory = \"256M\"\n"
                       "vcpus = 5\n[[image]]\nname = \"img\"\nconfig = \"img.toml\"\n", &m);
    ck_assert_msg(msg == NULL, "%s", msg);
    ck_assert_uint_eq(m.max_clients, 2);
    ck_assert_uint_eq(m.quota.vms, 3);
    ck_assert_uint_eq(m.quota.memory, 256 << 20);
    ck_assert_uint_eq(m.quota.vcpus, 5);
    ck_assert_uint_eq(m.images->len, 1);
    ck_assert_str_eq(g_array_index(m.images, struct manager_image, 0).name, "img");
    manager_clear(&m);

    expect_manager_error("[sever]\n", "manager.toml:1:1: unknown section [sever] (known: "
                         "[quota], [control], [[image]], [[vm]])");
    expect_manager_error("[quota]\nvsm = 1\n",
                         "manager.toml:2:1: unknown key \"vsm\" in [quota]; did you mean \"vms\"?");
    expect_manager_error("[quota]\nvms = 2000\n",
                         "manager.toml:2:1: quota.vms: 2000 is out of range (0 to 1024)");
    expect_manager_error("[quota]\nmemory = true\n", "quota.memory: expected an integer (MiB)");
    expect_manager_error("[control]\nmax-clients = -1\n",
                         "control.max-clients: -1 is out of range (1 to 4096)");
    expect_manager_error("[control]\nmax-clients = \"4\"\n",
                         "control.max-clients: expected an integer, found a string");
    expect_manager_error("[[image]]\nname = \"x\"\n", "manager.toml:1:1: [[image]] needs config");
    expect_manager_error("[[image]]\nname = \"x\"\nconfig = \"img.toml\"\nstart = true\n",
                         "manager.toml:4:1: unknown key \"start\" in [[image]]");
    expect_manager_error("image = 3\n", "image: expected an array of tables, found an integer");
    expect_manager_error("image = [1]\n", "image: expected tables, found an integer");
    expect_manager_error("[[vm]]\nconfig = \"img.toml\"\nname = \"a/b\"\n",
                         "manager.toml:3:1: vm[0].name: \"a/b\" is not a VM name");
    expect_manager_error("[[vm]]\nconfig = \"img.toml\"\nstart = 1\n",
                         "vm[0].start: expected a boolean, found an integer");
}
END_TEST

/* An image's name makes its VMs' names ("<name>-<id>"): the manager
 * config took any string, so "a b" or a 60-character name was accepted at
 * start-up and every VM_CREATE of it failed later. Now the VM name rule
 * judges it when the file is read. */
START_TEST(image_names_follow_the_vm_name_rule)
{
    g_autofree char *long_name = g_strnfill(VM_NAME_MAX - 4, 'a');
    g_autofree char *text = g_strdup_printf("[[image]]\nname = \"%s\"\nconfig = \"img.toml\"\n",
                                            long_name);
    struct manager m;
    char *msg;

    ck_assert(vm_name_valid(long_name)); /* a fine VM name on its own... */
    write_image_config();
    expect_manager_error(text, "manager.toml:2:1: image[0].name: ");   /* ...but not <name>-<id> */
    expect_manager_error(text, "is not a name for VMs (they are named <name>-<id>");
    expect_manager_error("[[image]]\nname = \"a b\"\nconfig = \"img.toml\"\n",
                         "image[0].name: \"a b\" is not a name for VMs");
    expect_manager_error("[[image]]\nname = \"-x\"\nconfig = \"img.toml\"\n",
                         "image[0].name: \"-x\" is not a name for VMs");
    /* The longest that works: 64 with "-" and a 20-digit id. */
    msg = load_manager("[[image]]\nname = \"0123456789012345678901234567890123456789012\"\n"
                       "config = \"img.toml\"\n", &m);
    ck_assert_msg(msg == NULL, "%s", msg);
    manager_clear(&m);
}
END_TEST

/* The firmware search order: $VMM_FIRMWARE_DIR, a build tree's firmware/
 * beside the binary, the installed data folder. */
START_TEST(firmware_search_order)
{
    g_autofree char *bin = g_build_filename(dir, "bin", NULL);
    g_autofree char *tree = g_build_filename(dir, "tree", NULL);
    g_autofree char *tree_fw = g_build_filename(tree, "firmware", NULL);
    const char *installed = "/opt/x/libexec/vmm/firmware";
    char *d;

    ck_assert_int_eq(g_mkdir(bin, 0700), 0);
    ck_assert_int_eq(g_mkdir(tree, 0700), 0);
    ck_assert_int_eq(g_mkdir(tree_fw, 0700), 0);

    /* installed: no firmware/ beside the binary */
    d = config_firmware_dir(NULL, bin, installed);
    ck_assert_str_eq(d, installed);
    g_free(d);
    d = config_firmware_dir("", bin, installed);    /* empty: as if unset */
    ck_assert_str_eq(d, installed);
    g_free(d);
    /* a build tree: its own firmware, not the installed one */
    d = config_firmware_dir(NULL, tree, installed);
    ck_assert_str_eq(d, tree_fw);
    g_free(d);
    /* the variable wins over both */
    d = config_firmware_dir("/elsewhere", tree, installed);
    ck_assert_str_eq(d, "/elsewhere");
    g_free(d);
    d = config_firmware_dir("/elsewhere", bin, installed);
    ck_assert_str_eq(d, "/elsewhere");
    g_free(d);
}
END_TEST

/* This binary (tests/unit/ has no firmware/) without the variable looks in
 * the folder the build was configured to install firmware to. */
START_TEST(firmware_default_is_installed_dir)
{
    g_autofree char *want = g_strdup_printf("%s/hello-%s.elf", VMM_FIRMWARE_INSTALL_DIR,
                                            arch_name);
    g_autofree char *path = NULL;

    g_unsetenv("VMM_FIRMWARE_DIR");
    path = config_firmware_path("hello");
    ck_assert_str_eq(path, want);
    g_setenv("VMM_FIRMWARE_DIR", dir, TRUE);
    g_free(path);
    path = config_firmware_path("hello");
    ck_assert(g_str_has_prefix(path, dir));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, valid_config);
    tcase_add_test(tc, mistakes);
    tcase_add_test(tc, disks);
    tcase_add_test(tc, shares);
    tcase_add_test(tc, vm_names);
    tcase_add_test(tc, json_config);
    tcase_add_test(tc, json_policy);
    tcase_add_test(tc, options);
    tcase_add_test(tc, pci_test_device);
    tcase_add_test(tc, gic_version_and_mte);
    tcase_add_test(tc, pit_key);
    tcase_add_test(tc, hyperv_key);
    tcase_add_test(tc, vsock_cid);
    tcase_add_test(tc, manager_config);
    tcase_add_test(tc, image_names_follow_the_vm_name_rule);
    tcase_add_test(tc, firmware_search_order);
    tcase_add_test(tc, firmware_default_is_installed_dir);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
