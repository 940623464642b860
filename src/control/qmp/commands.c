/*
 * The control socket's commands' handlers. What each command takes is
 * declared in schema.c; the session checks a request against that before
 * its handler runs, so a handler reads its arguments (request.c) without
 * re-checking them. Handlers call the manager (manager.h) and nothing
 * below it.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/arch.h"
#include "vmm/manager.h"
#include "vmm/qmp.h"
#include "vmm/vm.h"

#include "internal.h"

static JsonNode *obj_node(JsonObject *o)
{
    return qmp_object_node(o);
}

static JsonNode *arr_node(JsonArray *a)
{
    JsonNode *n = json_node_new(JSON_NODE_ARRAY);

    json_node_take_array(n, a);
    return n;
}

static struct manager *mgr(struct qmp_request *req)
{
    return req->session->manager;
}

static JsonNode *ok_or_null(bool ok)
{
    return ok ? obj_node(json_object_new()) : NULL;
}

static JsonNode *cmd_qmp_capabilities(struct qmp_request *req, GError **error)
{
    JsonArray *enable = qmp_arg_array(req, "enable");

    if (req->session->negotiated) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND,
                    "Capabilities negotiation is already complete, command ignored");
        return NULL;
    }
    /* vmm offers no optional capability (no out-of-band execution). */
    if (enable && json_array_get_length(enable) > 0) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Capability '%s' not available",
                    json_array_get_string_element(enable, 0));
        return NULL;
    }
    req->session->negotiated = true;
    return obj_node(json_object_new());
}

static JsonNode *cmd_query_version(struct qmp_request *req, GError **error)
{
    return obj_node(qmp_version_object());
}

/* [{"name": NAME}, ...] of the first @n names @name_at gives. */
static JsonNode *name_list(const char *(*name_at)(size_t i), size_t n)
{
    JsonArray *a = json_array_new();

    for (size_t i = 0; i < n; i++) {
        JsonObject *o = json_object_new();

        json_object_set_string_member(o, "name", name_at(i));
        json_array_add_object_element(a, o);
    }
    return arr_node(a);
}

static const char *command_name(size_t i)
{
    return qmp_schema_commands[i].name;
}

static const char *event_name(size_t i)
{
    return qmp_schema_events[i].name;
}

static JsonNode *cmd_query_commands(struct qmp_request *req, GError **error)
{
    return name_list(command_name, qmp_schema_commands_len);
}

static JsonNode *cmd_query_events(struct qmp_request *req, GError **error)
{
    return name_list(event_name, qmp_schema_events_len);
}

static JsonNode *cmd_query_status(struct qmp_request *req, GError **error)
{
    struct mvm *mv = manager_find(mgr(req), req->vm, error);
    JsonObject *o;

    if (!mv)
        return NULL;
    o = json_object_new();
    json_object_set_boolean_member(o, "running", mv->state == MVM_RUNNING);
    json_object_set_string_member(o, "status", mvm_state_name(mv->state));
    return obj_node(o);
}

static JsonNode *cmd_vm_create(struct qmp_request *req, GError **error)
{
    const char *name = qmp_arg_str(req, "name");
    JsonNode *c = json_object_get_member(req->args, "config");
    struct vmm_config cfg;
    struct mvm *mv;
    bool ok;

    config_init(&cfg);
    /* An inline config is read directly, with the file's schema. */
    if (JSON_NODE_HOLDS_OBJECT(c))
        ok = config_load_json(&cfg, c, "config", error);
    else
        ok = config_load(&cfg, json_node_get_string(c), error);
    mv = ok ? manager_create(mgr(req), name, &cfg, 0, error) : NULL;
    config_clear(&cfg);
    if (!mv)
        return NULL;
    if (json_object_has_member(req->args, "start") &&
        json_object_get_boolean_member(req->args, "start") &&
        !manager_start(mgr(req), mv->name, error))
        return NULL;
    return obj_node(json_object_new());
}

static JsonNode *cmd_vm_start(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_start(mgr(req), req->vm, error));
}

static JsonNode *cmd_stop(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_pause(mgr(req), req->vm, error));
}

static JsonNode *cmd_cont(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_resume(mgr(req), req->vm, error));
}

static JsonNode *cmd_system_reset(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_reset(mgr(req), req->vm, error));
}

static JsonNode *cmd_system_powerdown(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_powerdown(mgr(req), req->vm, error));
}

static JsonNode *cmd_vm_destroy(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_destroy(mgr(req), req->vm, error));
}

static JsonArray *flag_names(uint32_t flags)
{
    JsonArray *a = json_array_new();

    for (int f = 0; f < GUEST_FLAG_COUNT; f++)
        if (flags & GUEST_FLAG(f))
            json_array_add_string_element(a, guest_flag_names[f]);
    return a;
}

static JsonObject *services_object(uint64_t services)
{
    JsonObject *o = json_object_new();

    for (int own = 0; own < SVC_OWNER_COUNT; own++) {
        JsonArray *a = json_array_new();

        for (int s = 0; s < SVC_COUNT; s++)
            if (service_table[s].owner == (service_owner)own && (services & SVC_BIT(s)))
                json_array_add_string_element(a, service_table[s].name);
        json_object_set_array_member(o, service_owner_names[own], a);
    }
    return o;
}

static JsonObject *policy_object(const struct mvm *mv)
{
    const struct vm_policy *p = &mv->policy;
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "role", policy_role_name(p->role));
    json_object_set_array_member(o, "flags", flag_names(p->flags));
    json_object_set_object_member(o, "services", services_object(p->services));
    json_object_set_boolean_member(o, "manageable", p->manageable);
    /* Fixed from the moment the VM first runs. */
    json_object_set_boolean_member(o, "frozen", mv->state != MVM_PRELAUNCH);
    return o;
}

static JsonObject *vm_summary(const struct mvm *mv)
{
    JsonObject *o = json_object_new();

    json_object_set_string_member(o, "name", mv->name);
    json_object_set_int_member(o, "id", mv->id);
    json_object_set_string_member(o, "status", mvm_state_name(mv->state));
    json_object_set_boolean_member(o, "running", mv->state == MVM_RUNNING);
    json_object_set_string_member(o, "role", policy_role_name(mv->policy.role));
    if (mv->owner) {
        struct mvm *owner = manager_find_id(mv->manager, mv->owner);

        json_object_set_int_member(o, "owner", mv->owner);
        if (owner)
            json_object_set_string_member(o, "owner-name", owner->name);
    }
    if (mv->stopped) {
        JsonObject *e = json_object_new();

        json_object_set_string_member(e, "reason", mv->stop_reason);
        json_object_set_int_member(e, "status", mv->exit_status);
        if (mv->stop_message)
            json_object_set_string_member(e, "message", mv->stop_message);
        json_object_set_object_member(o, "exit", e);
    }
    return o;
}

static JsonNode *cmd_query_vms(struct qmp_request *req, GError **error)
{
    JsonArray *a = json_array_new();
    struct manager *m = mgr(req);

    for (guint i = 0; i < m->vms->len; i++)
        json_array_add_object_element(a, vm_summary(m->vms->pdata[i]));
    return arr_node(a);
}

static JsonArray *disk_list(const struct vmm_config *cfg)
{
    JsonArray *a = json_array_new();

    for (unsigned i = 0; i < cfg->nr_disks; i++) {
        JsonObject *d = json_object_new();

        json_object_set_string_member(d, "path", cfg->disks[i].path);
        json_object_set_boolean_member(d, "readonly", cfg->disks[i].readonly);
        if (cfg->disks[i].serial)
            json_object_set_string_member(d, "serial", cfg->disks[i].serial);
        json_array_add_object_element(a, d);
    }
    return a;
}

static JsonArray *share_list(const struct vmm_config *cfg)
{
    JsonArray *a = json_array_new();

    for (unsigned i = 0; i < cfg->nr_shares; i++) {
        JsonObject *d = json_object_new();

        json_object_set_string_member(d, "path", cfg->shares[i].path);
        json_object_set_string_member(d, "tag", cfg->shares[i].tag);
        json_object_set_boolean_member(d, "readonly", cfg->shares[i].readonly);
        json_array_add_object_element(a, d);
    }
    return a;
}

static JsonNode *cmd_query_vm(struct qmp_request *req, GError **error)
{
    struct mvm *mv = manager_find(mgr(req), req->vm, error);
    JsonObject *o;

    if (!mv)
        return NULL;
    o = vm_summary(mv);
    json_object_set_int_member(o, "vcpus", mv->cfg.vcpus);
    json_object_set_int_member(o, "memory", mv->cfg.memory);
    json_object_set_array_member(o, "flags", flag_names(mv->policy.flags));
    json_object_set_string_member(o, "firmware", mv->cfg.firmware);
    json_object_set_string_member(o, "arch", arch_name);
    json_object_set_array_member(o, "disks", disk_list(&mv->cfg));
    json_object_set_array_member(o, "shares", share_list(&mv->cfg));
    return obj_node(o);
}

static JsonNode *cmd_query_policy(struct qmp_request *req, GError **error)
{
    struct mvm *mv = manager_find(mgr(req), req->vm, error);

    return mv ? obj_node(policy_object(mv)) : NULL;
}

/* Arguments absent keep the current value; "services" lists, per owner
 * given, exactly the services to enable (as [policy.services]). */
static JsonNode *cmd_set_policy(struct qmp_request *req, GError **error)
{
    struct mvm *mv = manager_find(mgr(req), req->vm, error);
    struct vm_policy p;

    if (!mv)
        return NULL;
    p = mv->policy;
    /* The members given, read with [policy]'s schema. */
    if (!policy_from_json(&p, req->args, error))
        return NULL;
    return ok_or_null(manager_set_policy(mgr(req), mv->name, &p, error));
}

static JsonNode *cmd_query_hypercall_stats(struct qmp_request *req, GError **error)
{
    struct mvm *mv = manager_find(mgr(req), req->vm, error);
    const struct call_stats *stats;
    JsonArray *a;

    if (!mv)
        return NULL;
    stats = manager_call_stats(mv); /* once: from a worker, a round trip */
    a = json_array_new();
    /* One row per table entry, then one for IDs no entry serves. */
    for (size_t i = 0; i <= call_table_len; i++) {
        JsonObject *row = json_object_new(), *counts = json_object_new();
        uint64_t total = 0;

        if (i < call_table_len) {
            json_object_set_string_member(row, "call", call_table[i].name);
            json_object_set_int_member(row, "first", call_table[i].first);
            json_object_set_int_member(row, "last", call_table[i].last);
        } else {
            json_object_set_string_member(row, "call", "unknown");
        }
        for (int v = 0; v < CALL_VERDICT_COUNT; v++) {
            uint64_t n = stats ? call_stats_get(stats, i, v) : 0;

            json_object_set_int_member(counts, call_verdict_names[v], n);
            total += n;
        }
        json_object_set_int_member(row, "total", total);
        json_object_set_object_member(row, "verdicts", counts);
        json_array_add_object_element(a, row);
    }
    /* Doorbells refused before they named any call. */
    {
        JsonObject *row = json_object_new(), *counts = json_object_new();
        uint64_t n = stats ? __atomic_load_n(&stats->ucall_rejected, __ATOMIC_RELAXED) : 0;

        json_object_set_string_member(row, "call", "ucall-doorbell");
        json_object_set_int_member(row, "total", n);
        json_object_set_int_member(counts, "rejected", n);
        json_object_set_object_member(row, "verdicts", counts);
        json_array_add_object_element(a, row);
    }
    return arr_node(a);
}

/* This client answers the VM's calls in [first, last] that its policy
 * allows, from its first run on (GUEST_CALL events, call-return). */
static JsonNode *cmd_monitor_calls(struct qmp_request *req, GError **error)
{
    return ok_or_null(manager_monitor_calls(mgr(req), req->vm, req->session,
                                            qmp_arg_int(req, "first"), qmp_arg_int(req, "last"),
                                            qmp_arg_int(req, "timeout-ms"), error));
}

/* Up to 4 integers (the schema says so); negative: two's complement. */
static JsonNode *cmd_call_return(struct qmp_request *req, GError **error)
{
    JsonArray *a = qmp_arg_array(req, "results");
    uint64_t results[4] = { 0 };
    guint n = a ? json_array_get_length(a) : 0;

    for (guint i = 0; i < n; i++)
        results[i] = (uint64_t)json_array_get_int_element(a, i);
    return ok_or_null(manager_call_return(mgr(req), req->session, qmp_arg_int(req, "token"),
                                          results, n, error));
}

static JsonNode *cmd_quit(struct qmp_request *req, GError **error)
{
    req->session->quit = true;
    return obj_node(json_object_new());
}

/* One per command of qmp_schema_commands (a unit test holds the two
 * together). */
const struct qmp_handler qmp_handlers[] = {
    { "qmp_capabilities", cmd_qmp_capabilities },
    { "query-version", cmd_query_version },
    { "query-commands", cmd_query_commands },
    { "query-events", cmd_query_events },
    { "query-status", cmd_query_status },
    { "query-vms", cmd_query_vms },
    { "query-vm", cmd_query_vm },
    { "vm-create", cmd_vm_create },
    { "vm-start", cmd_vm_start },
    { "stop", cmd_stop },
    { "cont", cmd_cont },
    { "system_reset", cmd_system_reset },
    { "system_powerdown", cmd_system_powerdown },
    { "vm-destroy", cmd_vm_destroy },
    { "query-policy", cmd_query_policy },
    { "set-policy", cmd_set_policy },
    { "query-hypercall-stats", cmd_query_hypercall_stats },
    { "monitor-calls", cmd_monitor_calls },
    { "call-return", cmd_call_return },
    { "quit", cmd_quit },
};
const size_t qmp_handlers_len = G_N_ELEMENTS(qmp_handlers);

qmp_handler_fn qmp_handler_find(const char *name)
{
    for (size_t i = 0; i < qmp_handlers_len; i++)
        if (!strcmp(qmp_handlers[i].name, name))
            return qmp_handlers[i].fn;
    g_error("QMP command %s is declared but has no handler", name);
}
