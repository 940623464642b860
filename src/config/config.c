/*
 * The VM configuration file. Every mistake is reported once, at its
 * position in the file, before KVM is touched.
 */
#include <string.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "vmm/loader.h"
#include "vmm/schema.h"
#include "vmm/toml.h"

void config_init(struct vmm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory = VMM_CONFIG_DEFAULT_MEMORY;
    cfg->vcpus = 1;
    cfg->seccomp = true;
    cfg->pit = true;
    policy_init(&cfg->policy);
}

void config_clear(struct vmm_config *cfg)
{
    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        g_free(cfg->disks[i].path);
        g_free(cfg->disks[i].serial);
    }
    for (unsigned i = 0; i < cfg->nr_shares; i++) {
        g_free(cfg->shares[i].path);
        g_free(cfg->shares[i].tag);
    }
    g_free(cfg->path);
    g_free(cfg->name);
    g_free(cfg->firmware);
    g_free(cfg->console_file);
    g_free(cfg->cpu_features);
    g_free(cfg->vcpus_at);
    g_free(cfg->image);
    g_free(cfg->firmware_at);
    g_free(cfg->kernel_at);
    linux_image_clear(&cfg->boot_linux);
    config_init(cfg);
}

uint64_t config_host_memory(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);

    return pages > 0 && page > 0 ? (uint64_t)pages * page : UINT64_MAX;
}

bool vm_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;

    if (n == 0 || n > VM_NAME_MAX || name[0] == '.' || name[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(name[i]) && !strchr("._-+:@", name[i]))
            return false;
    return true;
}

/* A file's base name as a VM name: what the rule refuses becomes '_'. */
static char *vm_name_from(const char *base)
{
    GString *n = g_string_new(NULL);

    if (base[0] == '.' || base[0] == '-' || !base[0])
        g_string_append(n, "vm");
    for (const char *p = base; *p && n->len < VM_NAME_MAX; p++)
        g_string_append_c(n, g_ascii_isalnum(*p) || strchr("._-+:@", *p) ? *p : '_');
    return g_string_free(n, FALSE);
}

bool config_share_tag_valid(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;

    if (n == 0 || n > VMM_SHARE_TAG_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!g_ascii_isalnum(tag[i]) && !strchr("._-+@", tag[i]))
            return false;
    return true;
}

char *config_share_tag(const char *path)
{
    g_autofree char *full = g_canonicalize_filename(path, NULL);
    g_autofree char *base = g_path_get_basename(full);
    GString *t = g_string_new(NULL);

    if (!strcmp(base, "/"))
        g_string_append(t, "root");
    for (const char *p = base; *p && t->len < VMM_SHARE_TAG_MAX && strcmp(base, "/"); p++)
        g_string_append_c(t, g_ascii_isalnum(*p) || strchr("._-+@", *p) ? *p : '_');
    return g_string_free(t, FALSE);
}

char *config_share_problem(const struct vmm_config *cfg, const char *path, const char *tag)
{
    g_autofree char *quoted = g_strescape(tag, NULL);

    if (!path || !*path)
        return g_strdup("no folder given");
    if (cfg->nr_shares == VMM_MAX_SHARES)
        return g_strdup_printf("at most %u shares", VMM_MAX_SHARES);
    if (!config_share_tag_valid(tag))
        return g_strdup_printf("tag \"%s\" is not a share tag (" VMM_SHARE_TAG_RULE "); "
                               "choose one with tag = or DIR:TAG", quoted);
    for (unsigned i = 0; i < cfg->nr_shares; i++)
        if (!strcmp(cfg->shares[i].tag, tag))
            return g_strdup_printf("tag \"%s\" is taken by share %s; give each share its "
                                   "own tag", tag, cfg->shares[i].path);
    return NULL;
}

bool config_add_share(struct vmm_config *cfg, const char *path, const char *tag,
                      bool readonly, GError **error)
{
    g_autofree char *own = tag ? g_strdup(tag) : config_share_tag(path ? path : "");
    g_autofree char *problem = config_share_problem(cfg, path, own);

    if (problem) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "share %s: %s", path ? path : "",
                    problem);
        return false;
    }
    cfg->shares[cfg->nr_shares++] = (struct device_share){ .path = g_strdup(path),
                                                           .tag = g_steal_pointer(&own),
                                                           .readonly = readonly };
    return true;
}

char *vm_name_quote(const char *name)
{
    g_autofree char *cut = g_strndup(name ? name : "", 80);

    return g_strescape(cut, NULL);
}

char *config_firmware_dir(const char *env_dir, const char *exe_dir, const char *installed_dir)
{
    g_autofree char *beside = g_build_filename(exe_dir, "firmware", NULL);

    /* The variable always wins, even over a folder that lacks the image:
     * a test that names its firmware must never get another one. */
    if (env_dir && *env_dir)
        return g_strdup(env_dir);
    /* A build tree: its own firmware, never an older installed one. */
    if (g_file_test(beside, G_FILE_TEST_IS_DIR))
        return g_steal_pointer(&beside);
    return g_strdup(installed_dir);
}

char *config_firmware_path(const char *name)
{
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *exedir = exe ? g_path_get_dirname(exe) : g_strdup(".");
    g_autofree char *dir = config_firmware_dir(g_getenv("VMM_FIRMWARE_DIR"), exedir,
                                               VMM_FIRMWARE_INSTALL_DIR);
    g_autofree char *file = g_strdup_printf("%s-%s.elf", name, arch_name);

    return g_build_filename(dir, file, NULL);
}

char *config_memory_problem(uint64_t bytes, const char *shown, uint64_t host)
{
    if (bytes < VMM_CONFIG_MIN_MEMORY)
        return g_strdup_printf("%s is too small: a VM needs at least 2 MiB", shown);
    if (bytes > host)
        return g_strdup_printf("%s is more than this host's memory (%" G_GUINT64_FORMAT
                               " MiB)", shown, host >> 20);
    if (bytes & 0xfffff)
        return g_strdup_printf("%s is not a whole number of MiB", shown);
    return NULL;
}

bool config_set_memory(struct vmm_config *cfg, const char *option, const char *text,
                       GError **error)
{
    return config_set_option(cfg, option, text, error);
}

bool config_set_vcpus(struct vmm_config *cfg, const char *option, const char *text,
                      GError **error)
{
    return config_set_option(cfg, option, text, error);
}

/* A path in the config is relative to the config file's folder. */
static char *config_relative(const struct vmm_config *cfg, const char *path)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(path))
        return g_strdup(path);
    dir = g_path_get_dirname(cfg->path);
    return g_build_filename(dir, path, NULL);
}

/* The where-string of the key at @path, if the document has it. */
static char *where_of(const struct cfg_node *root, const char *path, bool with_key)
{
    struct cfg_node n;

    return cfg_node_lookup(root, path, &n) ? cfg_node_where(&n, with_key) : NULL;
}

/* What the schema cannot say key by key: one of firmware and kernel,
 * initrd and cmdline only with a kernel, paths relative to the file, the
 * default name; and where the keys were, for later messages. */
static bool config_check(const struct cfg_node *root, void *target, GError **error)
{
    struct vmm_config *cfg = target;
    struct linux_image *l = &cfg->boot_linux;
    struct cfg_node n;

    if (cfg->firmware && l->kernel_path) {
        cfg_node_lookup(root, "boot.kernel", &n);
        cfg_error(error, &n, "%s: [boot] has both firmware and kernel; choose one",
                  cfg_node_path(&n));
        return false;
    }
    if (!l->kernel_path && (l->initrd_path || l->cmdline)) {
        cfg_node_lookup(root, l->initrd_path ? "boot.initrd" : "boot.cmdline", &n);
        cfg_error(error, &n, "%s: only for a kernel (boot.kernel)", cfg_node_path(&n));
        return false;
    }
    if (!cfg->name) {
        g_autofree char *base = g_path_get_basename(cfg->path);
        char *dot = strrchr(base, '.');

        if (dot && dot != base)
            *dot = '\0';
        cfg->name = vm_name_from(base);
    }
    cfg->vcpus_at = where_of(root, "vm.vcpus", false);
    if (!cfg->vcpus_at)
        cfg->vcpus_at = g_strdup(cfg->path);
    if (cfg->firmware) {
        g_autofree char *fw = g_steal_pointer(&cfg->firmware);

        /* A bare name is bundled firmware; anything path-like is a file. */
        if (strchr(fw, '/') || g_str_has_suffix(fw, ".elf"))
            cfg->firmware = config_relative(cfg, fw);
        else
            cfg->firmware = config_firmware_path(fw);
        cfg->firmware_at = where_of(root, "boot.firmware", true);
    }
    if (l->kernel_path) {
        g_autofree char *kernel = g_steal_pointer(&l->kernel_path);
        g_autofree char *initrd = g_steal_pointer(&l->initrd_path);
        char *at = where_of(root, "boot.kernel", true);

        /* "...: boot": messages about the images add ".kernel: ..." or ".initrd: ...". */
        at[strlen(at) - strlen(".kernel")] = '\0';
        cfg->kernel_at = at;
        l->kernel_path = config_relative(cfg, kernel);
        if (initrd)
            l->initrd_path = config_relative(cfg, initrd);
    }
    if (cfg->console_file) {
        g_autofree char *console = g_steal_pointer(&cfg->console_file);

        cfg->console_file = config_relative(cfg, console);
    }
    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        g_autofree char *disk = g_steal_pointer(&cfg->disks[i].path);

        cfg->disks[i].path = config_relative(cfg, disk);
    }
    for (unsigned i = 0; i < cfg->nr_shares; i++) {
        g_autofree char *dir = g_steal_pointer(&cfg->shares[i].path);

        cfg->shares[i].path = config_relative(cfg, dir);
    }
    policy_update(&cfg->policy);
    return true;
}

void config_set_kernel(struct vmm_config *cfg, const char *path)
{
    g_clear_pointer(&cfg->firmware, g_free);
    g_clear_pointer(&cfg->firmware_at, g_free);
    g_clear_pointer(&cfg->kernel_at, g_free);
    g_free(cfg->boot_linux.kernel_path);
    cfg->boot_linux.kernel_path = g_strdup(path);
}

static bool finish_firmware(struct vmm_config *cfg, GError **error)
{
    uint64_t lo, hi, entry;
    g_autoptr(GError) err = NULL;
    struct load_target t = { .e_machine = arch_elf_machine() };

    if (!image_read(cfg->firmware, cfg->memory, &cfg->image, &cfg->image_size, &err) ||
        (arch_load_window(cfg->memory, cfg->vcpus, &lo, &hi), t.lo = lo, t.hi = hi,
         !elf_load(cfg->firmware, cfg->image, cfg->image_size, &t, &entry, &err))) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", cfg->firmware_at,
                    err->message);
        return false;
    }
    return true;
}

bool config_policy_fits(const struct vmm_config *cfg, const struct vm_policy *policy,
                        const char *who, const char *what, GError **error)
{
    if (cfg->hyperv && policy->may_call) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] hyperv gives vmcall to KVM's Hyper-V, so vmm's guest calls are "
                    "unavailable: %s allows some call", who, what);
        return false;
    }
    return true;
}

bool config_finish(struct vmm_config *cfg, GError **error)
{
    g_autoptr(GError) err = NULL;
    struct vm_layout layout;

    /* vmm's own reservations first: the images are checked against them. */
    if ((cfg->boot_linux.kernel_path || cfg->firmware) &&
        !arch_layout(cfg->memory, cfg->vcpus, cfg->boot_linux.kernel_path != NULL, &layout,
                     &err)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s%s%s", cfg->path ? cfg->path : "",
                    cfg->path ? ": " : "", err->message);
        return false;
    }
    if (cfg->pc_test_device && (cfg->firmware || strcmp(arch_name, "x86_64"))) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] pc-test-device is for x86_64 kernel boots (its interrupt lines "
                    "are KVM's in-kernel IOAPIC and PIC)", cfg->path ? cfg->path : "vmm");
        return false;
    }
    if ((cfg->gic_version || cfg->mte) && strcmp(arch_name, "aarch64")) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: [vm] %s is for aarch64 guests",
                    cfg->path ? cfg->path : "vmm", cfg->gic_version ? "gic-version" : "mte");
        return false;
    }
    if (!cfg->pit && strcmp(arch_name, "x86_64")) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: [vm] pit is for x86_64 guests",
                    cfg->path ? cfg->path : "vmm");
        return false;
    }
    if (cfg->hyperv && (cfg->firmware || strcmp(arch_name, "x86_64"))) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] hyperv is for x86_64 kernel boots (SynIC needs KVM's in-kernel "
                    "LAPIC)", cfg->path ? cfg->path : "vmm");
        return false;
    }
    if (cfg->hyperv_test_device && !cfg->hyperv) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] hyperv-test-device needs [vm] hyperv (its routes go to KVM's SynIC)",
                    cfg->path ? cfg->path : "vmm");
        return false;
    }
    if (!config_policy_fits(cfg, &cfg->policy, cfg->path ? cfg->path : "vmm",
                            "the [policy]", error))
        return false;
    if (cfg->gic_version == 2 && cfg->vcpus > 8) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] gic-version 2 serves at most 8 vCPUs, not %u",
                    cfg->vcpus_at ? cfg->vcpus_at : cfg->path ? cfg->path : "vmm", cfg->vcpus);
        return false;
    }
    if (cfg->nr_disks && !cfg->boot_linux.kernel_path) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s%sdisk %s: disks are for Linux boots (boot.kernel or --kernel): "
                    "firmware boots have no PCI bus", cfg->path ? cfg->path : "",
                    cfg->path ? ": " : "", cfg->disks[0].path);
        return false;
    }
    if (cfg->vsock_cid && !cfg->boot_linux.kernel_path) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s%s[vsock] cid: vsock is for Linux boots (boot.kernel or --kernel): "
                    "firmware boots have no PCI bus", cfg->path ? cfg->path : "",
                    cfg->path ? ": " : "");
        return false;
    }
    if (cfg->nr_shares && !cfg->boot_linux.kernel_path) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s%sshare %s: shares are for Linux boots (boot.kernel or --kernel): "
                    "firmware boots have no PCI bus", cfg->path ? cfg->path : "",
                    cfg->path ? ": " : "", cfg->shares[0].path);
        return false;
    }
    if (cfg->boot_linux.kernel_path) {
        if (linux_image_read(&cfg->boot_linux, cfg->memory, cfg->vcpus, &err))
            return true;
        if (cfg->kernel_at)
            g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s.%s", cfg->kernel_at,
                        err->message);
        else
            g_propagate_error(error, g_steal_pointer(&err));
        return false;
    }
    if (cfg->pci_test_device && cfg->firmware) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: [vm] pci-test-device needs a kernel: the PCI bus exists on kernel "
                    "boots only", cfg->path ? cfg->path : "vmm");
        return false;
    }
    if (cfg->firmware)
        return finish_firmware(cfg, error);
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                "%s: [boot] needs firmware = a bundled firmware name such as \"hello\", "
                "the path of an ELF image, or kernel = the path of a Linux kernel",
                cfg->path ? cfg->path : "vmm");
    return false;
}

/* Checks and reads a parsed document, and frees it. */
static bool config_read(struct vmm_config *cfg, toml_value *root, GError **error)
{
    bool ok = cfg_read_toml(config_keys, root, cfg, config_check, error);

    toml_free(root);
    return ok;
}

bool config_parse(struct vmm_config *cfg, const char *path, GError **error)
{
    toml_value *root;

    cfg->path = g_strdup(path);
    root = toml_parse_file(path, error);
    return root && config_read(cfg, root, error);
}

bool config_load_text(struct vmm_config *cfg, const char *text, const char *origin,
                      GError **error)
{
    toml_value *root;

    cfg->path = g_strdup(origin);
    root = toml_parse(text, strlen(text), origin, error);
    return root && config_read(cfg, root, error) && config_finish(cfg, error);
}

bool config_load_json(struct vmm_config *cfg, JsonNode *object, const char *base,
                      GError **error)
{
    cfg->path = g_strdup(base);
    return cfg_read_json(config_keys, object, base, cfg, config_check, error) &&
           config_finish(cfg, error);
}

bool config_load(struct vmm_config *cfg, const char *path, GError **error)
{
    return config_parse(cfg, path, error) && config_finish(cfg, error);
}
