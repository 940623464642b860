/*
 * A VM config for its worker: the JSON form vm-create reads, so the worker
 * parses it with the same schema (config_load_json()) and builds the VM the
 * manager checked. The policy is not in it: START carries the one the VM
 * runs with (set-policy may have changed it since).
 */
#include <json-glib/json-glib.h>
#include <string.h>

#include "vmm/worker.h"

/* A path the schema reads as a path, never as a bundled firmware name. */
static char *as_path(const char *p)
{
    if (strchr(p, '/') || g_str_has_suffix(p, ".elf"))
        return g_strdup(p);
    return g_strconcat("./", p, NULL);
}

char *worker_config_json(const struct vmm_config *cfg)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *memory = g_strdup_printf("%" G_GUINT64_FORMAT, cfg->memory);

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "vm");
    json_builder_begin_object(b);
    if (cfg->name) {
        json_builder_set_member_name(b, "name");
        json_builder_add_string_value(b, cfg->name);
    }
    json_builder_set_member_name(b, "memory"); /* digits in a string: bytes */
    json_builder_add_string_value(b, memory);
    json_builder_set_member_name(b, "vcpus");
    json_builder_add_int_value(b, cfg->vcpus);
    json_builder_set_member_name(b, "pci-test-device");
    json_builder_add_boolean_value(b, cfg->pci_test_device);
    if (cfg->pc_test_device) {
        json_builder_set_member_name(b, "pc-test-device");
        json_builder_add_boolean_value(b, true);
    }
    if (!cfg->pit) {
        json_builder_set_member_name(b, "pit");
        json_builder_add_boolean_value(b, false);
    }
    if (cfg->gic_version) {
        json_builder_set_member_name(b, "gic-version");
        json_builder_add_int_value(b, cfg->gic_version);
    }
    if (cfg->mte) {
        json_builder_set_member_name(b, "mte");
        json_builder_add_boolean_value(b, true);
    }
    if (cfg->hyperv) {
        json_builder_set_member_name(b, "hyperv");
        json_builder_add_boolean_value(b, true);
    }
    if (cfg->hyperv_test_device) {
        json_builder_set_member_name(b, "hyperv-test-device");
        json_builder_add_boolean_value(b, true);
    }
    if (cfg->cpu_features) {
        json_builder_set_member_name(b, "cpu-features");
        json_builder_add_string_value(b, cfg->cpu_features);
    }
    json_builder_end_object(b);

    json_builder_set_member_name(b, "boot");
    json_builder_begin_object(b);
    if (cfg->boot_linux.kernel_path) {
        json_builder_set_member_name(b, "kernel");
        json_builder_add_string_value(b, cfg->boot_linux.kernel_path);
        if (cfg->boot_linux.initrd_path) {
            json_builder_set_member_name(b, "initrd");
            json_builder_add_string_value(b, cfg->boot_linux.initrd_path);
        }
        if (cfg->boot_linux.cmdline) {
            json_builder_set_member_name(b, "cmdline");
            json_builder_add_string_value(b, cfg->boot_linux.cmdline);
        }
    } else if (cfg->firmware) {
        g_autofree char *fw = as_path(cfg->firmware);

        json_builder_set_member_name(b, "firmware");
        json_builder_add_string_value(b, fw);
    }
    json_builder_end_object(b);

    json_builder_set_member_name(b, "console");
    json_builder_begin_object(b);
    if (cfg->console_file) {
        json_builder_set_member_name(b, "file");
        json_builder_add_string_value(b, cfg->console_file);
    }
    json_builder_set_member_name(b, "status-line");
    json_builder_add_boolean_value(b, cfg->status_line);
    json_builder_end_object(b);

    /* Without them the worker's VM would have no disks at all. */
    json_builder_set_member_name(b, "disk");
    json_builder_begin_array(b);
    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, cfg->disks[i].path);
        json_builder_set_member_name(b, "readonly");
        json_builder_add_boolean_value(b, cfg->disks[i].readonly);
        if (cfg->disks[i].serial) {
            json_builder_set_member_name(b, "serial");
            json_builder_add_string_value(b, cfg->disks[i].serial);
        }
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "share");
    json_builder_begin_array(b);
    for (unsigned i = 0; i < cfg->nr_shares; i++) {
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "path");
        json_builder_add_string_value(b, cfg->shares[i].path);
        json_builder_set_member_name(b, "tag");
        json_builder_add_string_value(b, cfg->shares[i].tag);
        json_builder_set_member_name(b, "readonly");
        json_builder_add_boolean_value(b, cfg->shares[i].readonly);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    /* The same: its vsock device, when it has one. */
    if (cfg->vsock_cid) {
        json_builder_set_member_name(b, "vsock");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "cid");
        json_builder_add_int_value(b, cfg->vsock_cid);
        json_builder_end_object(b);
    }

    json_builder_set_member_name(b, "security");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seccomp");
    json_builder_add_boolean_value(b, cfg->seccomp);
    json_builder_end_object(b);
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}
