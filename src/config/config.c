/*
 * The VM configuration file. Every mistake is reported once, at its
 * position in the file, before KVM is touched.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "vmm/arch.h"
#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/layout.h"
#include "vmm/loader.h"
#include "vmm/toml.h"

/* The schema: the only sections and keys a config may contain. */
static const char *const vm_keys[] = { "name", "memory", "vcpus", NULL };
static const char *const boot_keys[] = { "firmware", "kernel", "initrd", "cmdline", NULL };
static const char *const console_keys[] = { "file", NULL };
static const char *const policy_keys[] = { "role", "flags", "services", NULL };
static const char *const security_keys[] = { "seccomp", NULL };
static const struct {
    const char *name;
    const char *const *keys;
} sections[] = {
    { "vm", vm_keys },
    { "boot", boot_keys },
    { "console", console_keys },
    { "policy", policy_keys },
    { "security", security_keys },
};

void config_init(struct vmm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->memory = VMM_CONFIG_DEFAULT_MEMORY;
    cfg->vcpus = 1;
    cfg->seccomp = true;
    policy_init(&cfg->policy);
}

void config_clear(struct vmm_config *cfg)
{
    g_free(cfg->path);
    g_free(cfg->name);
    g_free(cfg->firmware);
    g_free(cfg->console_file);
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

char *vm_name_quote(const char *name)
{
    g_autofree char *cut = g_strndup(name ? name : "", 80);

    return g_strescape(cut, NULL);
}

bool config_parse_size(const char *text, uint64_t *bytes)
{
    char *end;
    guint64 n;
    unsigned shift = 0;

    if (!g_ascii_isdigit(text[0]))
        return false;
    errno = 0;
    n = g_ascii_strtoull(text, &end, 10);
    if (errno)
        return false;
    switch (g_ascii_toupper(*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    case '\0': break;
    default: return false;
    }
    if (*end == 'i' && shift)
        end++;
    if ((*end == 'B' || *end == 'b') && shift)
        end++;
    if (*end || n > (UINT64_MAX >> shift))
        return false;
    *bytes = n << shift;
    return true;
}

char *config_firmware_path(const char *name)
{
    const char *dir = g_getenv("VMM_FIRMWARE_DIR");
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *exedir = exe ? g_path_get_dirname(exe) : g_strdup(".");
    g_autofree char *file = g_strdup_printf("%s-%s.elf", name, arch_name);

    if (dir && *dir)
        return g_build_filename(dir, file, NULL);
    return g_build_filename(exedir, "firmware", file, NULL);
}

/* Distance between two short keys, to suggest the key a typo meant. */
static unsigned edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned row[64];

    if (la >= G_N_ELEMENTS(row) || lb >= G_N_ELEMENTS(row))
        return UINT_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];

        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];

            row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
            diag = up;
        }
    }
    return row[lb];
}

static void unknown_key(GError **error, const toml_value *at, const char *key,
                        const char *section, const char *const *known)
{
    const char *best = NULL;
    unsigned best_d = 3; /* suggest only close matches */

    for (; *known; known++) {
        unsigned d = edit_distance(key, *known);

        if (d < best_d) {
            best_d = d;
            best = *known;
        }
    }
    if (best)
        toml_set_error(error, at, "unknown key \"%s\" in [%s]; did you mean \"%s\"?",
                       key, section, best);
    else
        toml_set_error(error, at, "unknown key \"%s\" in [%s]", key, section);
}

static bool check_schema(const toml_value *root, GError **error)
{
    for (size_t i = 0; i < toml_table_size(root); i++) {
        const char *name = toml_table_key(root, i);
        const toml_value *sec = toml_table_value(root, i);
        size_t s = 0;

        while (s < G_N_ELEMENTS(sections) && strcmp(sections[s].name, name) != 0)
            s++;
        if (s == G_N_ELEMENTS(sections)) {
            toml_set_error(error, sec, "unknown section [%s] (known: [vm], [boot], [console], [policy], "
                           "[security])",
                           name);
            return false;
        }
        if (toml_type_of(sec) != TOML_TABLE) {
            toml_set_error(error, sec, "%s: expected a table, found %s %s", name,
                           toml_type_of(sec) == TOML_INTEGER ? "an" : "a",
                           toml_type_name(toml_type_of(sec)));
            return false;
        }
        for (size_t k = 0; k < toml_table_size(sec); k++) {
            const char *key = toml_table_key(sec, k);
            const char *const *known = sections[s].keys;

            while (*known && strcmp(*known, key) != 0)
                known++;
            if (!*known) {
                unknown_key(error, toml_table_value(sec, k), key, name, sections[s].keys);
                return false;
            }
        }
    }
    return true;
}

/* Why @bytes of guest RAM cannot be (@shown as the user wrote it), or NULL. */
static char *memory_problem(uint64_t bytes, const char *shown, uint64_t host)
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

static bool read_memory(struct vmm_config *cfg, const toml_value *root, GError **error)
{
    const toml_value *v = toml_lookup(root, "vm.memory");
    uint64_t host = config_host_memory();
    g_autofree char *shown = NULL;

    if (!v)
        return true;
    if (toml_type_of(v) == TOML_INTEGER) {
        int64_t mib = toml_integer(v);

        if (mib < 0 || (uint64_t)mib > (UINT64_MAX >> 20)) {
            toml_set_error(error, v, "vm.memory: %" G_GINT64_FORMAT " MiB is not a memory size",
                           mib);
            return false;
        }
        cfg->memory = (uint64_t)mib << 20;
        shown = g_strdup_printf("%" G_GINT64_FORMAT " MiB", mib);
    } else if (toml_type_of(v) == TOML_STRING) {
        if (toml_string_has_nul(v) || !config_parse_size(toml_string(v), &cfg->memory)) {
            toml_set_error(error, v, "vm.memory: \"%s\" is not a size "
                           "(use a number of MiB, or a string such as \"512M\" or \"2G\")",
                           toml_string(v));
            return false;
        }
        shown = g_strdup(toml_string(v));
    } else {
        toml_set_error(error, v, "vm.memory: expected an integer (MiB) or a string such "
                       "as \"512M\", found a %s", toml_type_name(toml_type_of(v)));
        return false;
    }
    g_autofree char *why = memory_problem(cfg->memory, shown, host);
    if (why) {
        toml_set_error(error, v, "vm.memory: %s", why);
        return false;
    }
    return true;
}

bool config_set_memory(struct vmm_config *cfg, const char *option, const char *text,
                       GError **error)
{
    g_autofree char *why = NULL;
    uint64_t bytes;

    if (!config_parse_size(text, &bytes)) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: \"%s\" is not a size (such as 512M or 2G)", option, text);
        return false;
    }
    why = memory_problem(bytes, text, config_host_memory());
    if (why) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG, "%s: %s", option, why);
        return false;
    }
    cfg->memory = bytes;
    return true;
}

bool config_set_vcpus(struct vmm_config *cfg, const char *option, const char *text,
                      GError **error)
{
    char *end;
    guint64 n = g_ascii_strtoull(text, &end, 10);

    if (!g_ascii_isdigit(*text) || *end || n < 1 || n > VMM_CONFIG_MAX_VCPUS) {
        g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                    "%s: \"%s\" is not a vCPU count (1 to %d)", option, text,
                    VMM_CONFIG_MAX_VCPUS);
        return false;
    }
    cfg->vcpus = n;
    g_free(cfg->vcpus_at);
    cfg->vcpus_at = g_strdup(option);
    return true;
}

static bool read_vm(struct vmm_config *cfg, const toml_value *root, GError **error)
{
    const char *name;
    int64_t vcpus;
    const toml_value *v;
    unsigned line, col;

    if (!toml_get_string(root, "vm.name", NULL, &name, error) ||
        !toml_get_int(root, "vm.vcpus", 1, &vcpus, error) ||
        !read_memory(cfg, root, error))
        return false;
    if (name) {
        if (!vm_name_valid(name)) {
            g_autofree char *q = vm_name_quote(name);

            toml_set_error(error, toml_lookup(root, "vm.name"),
                           "vm.name: \"%s\" is not a VM name (" VM_NAME_RULE ")", q);
            return false;
        }
        cfg->name = g_strdup(name);
    } else {
        g_autofree char *base = g_path_get_basename(cfg->path);
        char *dot = strrchr(base, '.');

        if (dot && dot != base)
            *dot = '\0';
        cfg->name = vm_name_from(base);
    }
    v = toml_lookup(root, "vm.vcpus");
    if (vcpus < 1 || vcpus > VMM_CONFIG_MAX_VCPUS) {
        toml_set_error(error, v, "vm.vcpus: %" G_GINT64_FORMAT " is out of range (1 to %d)",
                       vcpus, VMM_CONFIG_MAX_VCPUS);
        return false;
    }
    cfg->vcpus = vcpus;
    if (v) {
        toml_pos(v, &line, &col);
        cfg->vcpus_at = g_strdup_printf("%s:%u:%u", cfg->path, line, col);
    } else {
        cfg->vcpus_at = g_strdup(cfg->path);
    }
    return true;
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

/* "file:line:col: key" for a message about @key's value later on. */
static char *position(const toml_value *v, const char *key)
{
    unsigned line, col;

    toml_pos(v, &line, &col);
    return g_strdup_printf("%s:%u:%u: %s", toml_source_name(v), line, col, key);
}

static bool read_boot(struct vmm_config *cfg, const toml_value *root, GError **error)
{
    const char *fw, *kernel, *initrd, *cmdline;

    if (!toml_get_string(root, "boot.firmware", NULL, &fw, error) ||
        !toml_get_string(root, "boot.kernel", NULL, &kernel, error) ||
        !toml_get_string(root, "boot.initrd", NULL, &initrd, error) ||
        !toml_get_string(root, "boot.cmdline", NULL, &cmdline, error))
        return false;
    if (fw && kernel) {
        toml_set_error(error, toml_lookup(root, "boot.kernel"),
                       "boot.kernel: [boot] has both firmware and kernel; choose one");
        return false;
    }
    if (!kernel && (initrd || cmdline)) {
        toml_set_error(error, toml_lookup(root, initrd ? "boot.initrd" : "boot.cmdline"),
                       "boot.%s: only for a kernel (boot.kernel)", initrd ? "initrd" : "cmdline");
        return false;
    }
    if (fw) {
        /* A bare name is bundled firmware; anything path-like is a file. */
        if (strchr(fw, '/') || g_str_has_suffix(fw, ".elf"))
            cfg->firmware = config_relative(cfg, fw);
        else
            cfg->firmware = config_firmware_path(fw);
        cfg->firmware_at = position(toml_lookup(root, "boot.firmware"), "boot.firmware");
    }
    if (kernel) {
        cfg->boot_linux.kernel_path = config_relative(cfg, kernel);
        cfg->kernel_at = position(toml_lookup(root, "boot.kernel"), "boot");
        if (initrd)
            cfg->boot_linux.initrd_path = config_relative(cfg, initrd);
        cfg->boot_linux.cmdline = g_strdup(cmdline);
    }
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

static bool config_read(struct vmm_config *cfg, toml_value *root, GError **error);

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
    if (cfg->firmware)
        return finish_firmware(cfg, error);
    g_set_error(error, VMM_ERROR, VMM_ERROR_CONFIG,
                "%s: [boot] needs firmware = a bundled firmware name such as \"hello\", "
                "the path of an ELF image, or kernel = the path of a Linux kernel",
                cfg->path ? cfg->path : "vmm");
    return false;
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

/* Checks and reads a parsed document, and frees it. */
static bool config_read(struct vmm_config *cfg, toml_value *root, GError **error)
{
    const char *console;
    bool ok;

    ok = check_schema(root, error) && read_vm(cfg, root, error) &&
         toml_get_string(root, "console.file", NULL, &console, error) &&
         read_boot(cfg, root, error) && policy_from_toml(&cfg->policy, root, error) &&
         toml_get_bool(root, "security.seccomp", true, &cfg->seccomp, error);
    if (ok && console)
        cfg->console_file = config_relative(cfg, console);
    toml_free(root);
    return ok;
}

bool config_load(struct vmm_config *cfg, const char *path, GError **error)
{
    return config_parse(cfg, path, error) && config_finish(cfg, error);
}
