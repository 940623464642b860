/*
 * The manager's own config (vmm serve --config FILE):
 *
 *     [quota]                 # what one service guest may run at once
 *     vms = 4
 *     memory = "256M"         # as [vm] memory: MiB or a size string
 *     vcpus = 8
 *
 *     [[image]]               # images a service guest may start, by index
 *     name = "hello"          # (0 is the first [[image]])
 *     config = "hello.toml"   # a VM config, relative to this file
 *
 *     [control]               # the control socket
 *     max-clients = 64        # clients at once (vmm serve --max-clients wins)
 *
 *     [[vm]]                  # VMs to create when vmm serve starts
 *     config = "service.toml"
 *     name = "svc"            # default: the config's [vm] name
 *     start = true            # default false: left in prelaunch
 *
 * Checked whole before anything is created.
 */
#include <string.h>

#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/toml.h"

static bool only_keys(const toml_value *t, const char *what, const char *const *keys,
                      GError **error)
{
    for (size_t i = 0; i < toml_table_size(t); i++) {
        const char *key = toml_table_key(t, i);
        const char *const *k = keys;

        while (*k && strcmp(*k, key))
            k++;
        if (!*k) {
            toml_set_error(error, toml_table_value(t, i), "unknown key \"%s\" in %s", key, what);
            return false;
        }
    }
    return true;
}

static char *relative_to(const char *file, const char *path)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(path))
        return g_strdup(path);
    dir = g_path_get_dirname(file);
    return g_build_filename(dir, path, NULL);
}

static bool read_quota(struct manager *m, const toml_value *root, GError **error)
{
    static const char *const keys[] = { "vms", "memory", "vcpus", NULL };
    const toml_value *q, *mem;
    int64_t vms, vcpus;

    if (!toml_get_table(root, "quota", &q, error))
        return false;
    if (!q)
        return true;
    if (!only_keys(q, "[quota]", keys, error) ||
        !toml_get_int(q, "vms", m->quota.vms, &vms, error) ||
        !toml_get_int(q, "vcpus", m->quota.vcpus, &vcpus, error))
        return false;
    if (vms < 0 || vms > 1024 || vcpus < 0 || vcpus > 65536) {
        toml_set_error(error, q, "[quota]: vms must be 0 to 1024, vcpus 0 to 65536");
        return false;
    }
    m->quota.vms = vms;
    m->quota.vcpus = vcpus;
    mem = toml_table_get(q, "memory");
    if (mem) {
        if (toml_type_of(mem) == TOML_INTEGER && toml_integer(mem) >= 0 &&
            (uint64_t)toml_integer(mem) <= (UINT64_MAX >> 20))
            m->quota.memory = (uint64_t)toml_integer(mem) << 20;
        else if (toml_type_of(mem) != TOML_STRING ||
                 toml_string_has_nul(mem) ||
                 !config_parse_size(toml_string(mem), &m->quota.memory)) {
            toml_set_error(error, mem, "quota.memory: expected a number of MiB or a size "
                           "such as \"512M\"");
            return false;
        }
    }
    return true;
}

static bool read_control(struct manager *m, const toml_value *root, GError **error)
{
    static const char *const keys[] = { "max-clients", NULL };
    const toml_value *t;
    int64_t n;

    if (!toml_get_table(root, "control", &t, error))
        return false;
    if (!t)
        return true;
    if (!only_keys(t, "[control]", keys, error) ||
        !toml_get_int(t, "max-clients", 0, &n, error))
        return false;
    if (toml_table_get(t, "max-clients") && (n < 1 || n > 4096)) {
        toml_set_error(error, toml_table_get(t, "max-clients"),
                       "control.max-clients: expected 1 to 4096");
        return false;
    }
    m->max_clients = n;
    return true;
}

/* Each element of the array of tables @key, checked against @keys. */
static bool each_table(const toml_value *root, const char *key, const char *const *keys,
                       const toml_value **arr, GError **error)
{
    g_autofree char *what = g_strdup_printf("[[%s]]", key);

    if (!toml_get_array(root, key, arr, error))
        return false;
    for (size_t i = 0; *arr && i < toml_array_len(*arr); i++) {
        const toml_value *t = toml_array_get(*arr, i);

        if (toml_type_of(t) != TOML_TABLE) {
            toml_set_error(error, t, "%s: expected tables", key);
            return false;
        }
        if (!only_keys(t, what, keys, error))
            return false;
    }
    return true;
}

bool manager_add_image(struct manager *m, const char *name, const char *path,
                       GError **error)
{
    struct manager_image img = { .name = g_strdup(name), .config = g_strdup(path) };

    /* Read whole now: a broken image is the host's error at start-up, not
     * a service guest's mystery, and a guest's VM_CREATE reads no file. */
    config_init(&img.cfg);
    if (!config_load(&img.cfg, img.config, error)) {
        config_clear(&img.cfg);
        g_free(img.name);
        g_free(img.config);
        return false;
    }
    /* What a service guest starts is restricted, whatever the image says. */
    img.cfg.policy.role = VM_ROLE_RESTRICTED;
    policy_update(&img.cfg.policy);
    g_array_append_val(m->images, img);
    return true;
}

static bool read_images(struct manager *m, const char *path, const toml_value *root,
                        GError **error)
{
    static const char *const keys[] = { "name", "config", NULL };
    const toml_value *arr;

    if (!each_table(root, "image", keys, &arr, error))
        return false;
    for (size_t i = 0; arr && i < toml_array_len(arr); i++) {
        const toml_value *t = toml_array_get(arr, i);
        const char *name, *cfgpath;
        g_autofree char *full = NULL;

        if (!toml_get_string(t, "name", NULL, &name, error) ||
            !toml_get_string(t, "config", NULL, &cfgpath, error))
            return false;
        if (!name || !cfgpath) {
            toml_set_error(error, t, "[[image]] needs name and config");
            return false;
        }
        full = relative_to(path, cfgpath);
        if (!manager_add_image(m, name, full, error))
            return false;
    }
    return true;
}

bool manager_load_config(struct manager *m, const char *path, GError **error)
{
    static const char *const top[] = { "quota", "control", "image", "vm", NULL };
    static const char *const vm_keys[] = { "config", "name", "start", NULL };
    toml_value *root = toml_parse_file(path, error);
    const toml_value *arr;
    bool ok;

    if (!root)
        return false;
    ok = only_keys(root, "the manager config", top, error) && read_quota(m, root, error) &&
         read_control(m, root, error) &&
         read_images(m, path, root, error) && each_table(root, "vm", vm_keys, &arr, error);
    for (size_t i = 0; ok && arr && i < toml_array_len(arr); i++) {
        const toml_value *t = toml_array_get(arr, i);
        const char *name, *cfgpath;
        bool start;
        struct vmm_config cfg;
        g_autofree char *full = NULL;
        struct mvm *mv;

        ok = toml_get_string(t, "config", NULL, &cfgpath, error) &&
             toml_get_string(t, "name", NULL, &name, error) &&
             toml_get_bool(t, "start", false, &start, error);
        if (ok && !cfgpath) {
            toml_set_error(error, t, "[[vm]] needs config");
            ok = false;
        }
        if (!ok)
            break;
        full = relative_to(path, cfgpath);
        config_init(&cfg);
        ok = config_load(&cfg, full, error);
        if (ok) {
            mv = manager_create(m, name, &cfg, 0, error);
            ok = mv != NULL;
            if (ok)
                mv->start_at_launch = start;
        }
        config_clear(&cfg);
    }
    toml_free(root);
    return ok;
}

bool manager_start_configured(struct manager *m, GError **error)
{
    for (guint i = 0; i < m->vms->len; i++) {
        struct mvm *mv = m->vms->pdata[i];

        if (mv->start_at_launch && mv->state == MVM_PRELAUNCH &&
            !manager_start(m, mv->name, error))
            return false;
    }
    return true;
}
