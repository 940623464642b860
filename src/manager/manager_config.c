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
 * Its keys are the table manager_config_keys below (docs/toml.md lists
 * them); unknown sections and keys are refused before anything is read.
 */
#include <string.h>

#include "vmm/config.h"
#include "vmm/error.h"
#include "vmm/manager.h"
#include "vmm/schema.h"
#include "vmm/toml.h"

/* A path in the manager config is relative to its folder. */
static char *relative_to(const struct cfg_node *n, const char *path)
{
    g_autofree char *dir = NULL;

    if (g_path_is_absolute(path))
        return g_strdup(path);
    dir = g_path_get_dirname(toml_source_name(n->toml));
    return g_build_filename(dir, path, NULL);
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

/* A service guest's VMs are named "<image>-<id>": that must be a VM name
 * for every id, so the image's name is checked with the largest one. */
static bool image_name_valid(const char *name)
{
    g_autofree char *longest = g_strdup_printf("%s-%" G_GUINT64_FORMAT, name, G_MAXUINT64);

    return vm_name_valid(name) && vm_name_valid(longest);
}

struct image_entry {
    char *name, *config;
};

static bool add_image(const struct cfg_node *n, void *elem, void *target, GError **error)
{
    struct image_entry *e = elem;
    g_autofree char *full = relative_to(n, e->config);

    return manager_add_image(target, e->name, full, error);
}

static void image_entry_clear(void *elem)
{
    struct image_entry *e = elem;

    g_free(e->name);
    g_free(e->config);
}

struct vm_entry {
    char *config, *name;
    bool start;
};

static bool add_vm(const struct cfg_node *n, void *elem, void *target, GError **error)
{
    struct vm_entry *e = elem;
    g_autofree char *full = relative_to(n, e->config);
    struct vmm_config cfg;
    struct mvm *mv = NULL;

    config_init(&cfg);
    if (config_load(&cfg, full, error))
        mv = manager_create(target, e->name, &cfg, 0, error);
    if (mv)
        mv->start_at_launch = e->start;
    config_clear(&cfg);
    return mv != NULL;
}

static void vm_entry_clear(void *elem)
{
    struct vm_entry *e = elem;

    g_free(e->config);
    g_free(e->name);
}

static const struct cfg_key quota_keys[] = {
    { "vms", CFG_INT, CFG_FIELD(struct manager_quota, vms), .min = 0, .max = 1024,
      .type_doc = "integer", .default_doc = "`8`",
      .doc = "VMs one service guest may have at once" },
    { "memory", CFG_SIZE, CFG_FIELD(struct manager_quota, memory),
      .type_doc = "integer (MiB) or string (`\"256M\"`)", .default_doc = "`\"1G\"`",
      .doc = "total guest RAM of those VMs" },
    { "vcpus", CFG_INT, CFG_FIELD(struct manager_quota, vcpus), .min = 0, .max = 65536,
      .type_doc = "integer", .default_doc = "`16`", .doc = "total vCPUs of those VMs" },
    { NULL },
};

static const struct cfg_key control_keys[] = {
    { "max-clients", CFG_INT, CFG_FIELD(struct manager, max_clients), .min = 1, .max = 4096,
      .type_doc = "integer", .default_doc = "`64`",
      .doc = "control-socket clients at once; `vmm serve --max-clients` wins" },
    { NULL },
};

static const struct cfg_key image_keys[] = {
    { "name", CFG_STRING, CFG_FIELD(struct image_entry, name), .required = true,
      .valid = image_name_valid, .noun = "name for VMs",
      .rule = "they are named <name>-<id>, and VM names are " VM_NAME_RULE,
      .type_doc = "string", .default_doc = "required",
      .doc = "the child VMs are named `<name>-<id>` (so at most 43 characters)" },
    { "config", CFG_STRING, CFG_FIELD(struct image_entry, config), .required = true,
      .type_doc = "string", .default_doc = "required",
      .doc = "a VM config (relative to this file's folder), read once when `vmm serve` starts" },
    { NULL },
};

static const struct cfg_key vm_keys[] = {
    { "config", CFG_STRING, CFG_FIELD(struct vm_entry, config), .required = true,
      .type_doc = "string", .default_doc = "required",
      .doc = "its VM config (relative to this file's folder)" },
    { "name", CFG_STRING, CFG_FIELD(struct vm_entry, name), .valid = vm_name_valid,
      .noun = "VM name", .rule = VM_NAME_RULE,
      .type_doc = "string", .default_doc = "the config's `[vm] name`", .doc = "the VM's name" },
    { "start", CFG_BOOL, CFG_FIELD(struct vm_entry, start),
      .type_doc = "boolean", .default_doc = "`false`",
      .doc = "start it at once (else it is left in `prelaunch`)" },
    { NULL },
};

const struct cfg_key manager_config_keys[] = {
    { "quota", CFG_TABLE, CFG_FIELD(struct manager, quota), .keys = quota_keys,
      .doc = "what one service guest may have at once" },
    { "control", CFG_TABLE, 0, 0, .keys = control_keys, .doc = "the control socket" },
    { "image", CFG_TABLES, 0, 0, .keys = image_keys, .elem_size = sizeof(struct image_entry),
      .each = add_image, .elem_clear = image_entry_clear,
      .doc = "images service guests may start, by index: 0, 1, ..." },
    { "vm", CFG_TABLES, 0, 0, .keys = vm_keys, .elem_size = sizeof(struct vm_entry),
      .each = add_vm, .elem_clear = vm_entry_clear,
      .doc = "VMs created when `vmm serve` starts" },
    { NULL },
};

bool manager_load_config(struct manager *m, const char *path, GError **error)
{
    toml_value *root = toml_parse_file(path, error);
    bool ok = root && cfg_read_toml(manager_config_keys, root, m, NULL, error);

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
