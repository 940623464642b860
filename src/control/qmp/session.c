/*
 * One QMP conversation: a request text in, a reply line out. The checks
 * run in the order QEMU's monitor has them (the shape of the request, the
 * negotiation state, the command, its arguments) so that clients written
 * against QEMU see the classes they expect; no handler runs on a request
 * that failed one.
 */
#include <stdio.h>
#include <string.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"

#ifndef VMM_VERSION /* meson defines it; a build outside it (a fuzzer) may not */
#define VMM_VERSION "0.0.0"
#endif

G_DEFINE_QUARK(vmm-qmp-error-quark, qmp_error)

const char *qmp_error_class(const GError *error)
{
    if (error->domain == QMP_ERROR) {
        switch (error->code) {
        case QMP_ERROR_COMMAND_NOT_FOUND: return "CommandNotFound";
        case QMP_ERROR_DEVICE_NOT_FOUND: return "DeviceNotFound";
        case QMP_ERROR_DEVICE_NOT_ACTIVE: return "DeviceNotActive";
        default: return "GenericError";
        }
    }
    if (error->domain == MANAGER_ERROR && error->code == MANAGER_ERROR_NO_VM)
        return "DeviceNotFound";
    return "GenericError";
}

static char *to_line(JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    char *text;

    /* Compact: json-glib escapes control characters inside strings, so
     * the result is one line. */
    json_generator_set_pretty(gen, FALSE);
    json_generator_set_root(gen, node);
    text = json_generator_to_data(gen, NULL);
    json_node_unref(node);
    return text;
}

static JsonNode *object_node(JsonObject *o)
{
    JsonNode *n = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(n, o);
    return n;
}

/* @line with "id": @id (raw JSON text) added last; takes @line. */
static char *with_id(char *line, const char *id)
{
    char *out;

    if (!id)
        return line;
    out = g_strdup_printf("%.*s,\"id\":%s}", (int)strlen(line) - 1, line, id);
    g_free(line);
    return out;
}

static char *error_reply(const GError *error, const char *id)
{
    JsonObject *top = json_object_new(), *err = json_object_new();

    json_object_set_string_member(err, "class", qmp_error_class(error));
    json_object_set_string_member(err, "desc", error->message);
    json_object_set_object_member(top, "error", err);
    return with_id(to_line(object_node(top)), id);
}

static char *return_reply(JsonNode *ret, const char *id)
{
    JsonObject *top = json_object_new();

    json_object_set_member(top, "return", ret ? ret : object_node(json_object_new()));
    return with_id(to_line(object_node(top)), id);
}

JsonObject *qmp_version_object(void)
{
    JsonObject *version = json_object_new(), *qemu = json_object_new();
    unsigned major = 0, minor = 0, micro = 0;

    sscanf(VMM_VERSION, "%u.%u.%u", &major, &minor, &micro);
    json_object_set_int_member(qemu, "major", major);
    json_object_set_int_member(qemu, "minor", minor);
    json_object_set_int_member(qemu, "micro", micro);
    json_object_set_object_member(version, "qemu", qemu);
    json_object_set_string_member(version, "package", "vmm " VMM_VERSION);
    return version;
}

char *qmp_greeting(void)
{
    JsonObject *top = json_object_new(), *qmp = json_object_new();

    json_object_set_object_member(qmp, "version", qmp_version_object());
    json_object_set_array_member(qmp, "capabilities", json_array_new());
    json_object_set_object_member(top, "QMP", qmp);
    return to_line(object_node(top));
}

char *qmp_event_line(const char *name, JsonObject *data)
{
    JsonObject *top = json_object_new(), *ts = json_object_new();
    gint64 now = g_get_real_time();

    json_object_set_string_member(top, "event", name);
    json_object_set_object_member(top, "data", data ? data : json_object_new());
    json_object_set_int_member(ts, "seconds", now / G_USEC_PER_SEC);
    json_object_set_int_member(ts, "microseconds", now % G_USEC_PER_SEC);
    json_object_set_object_member(top, "timestamp", ts);
    return to_line(object_node(top));
}

static const char *type_name(qmp_arg_type t)
{
    switch (t) {
    case QMP_T_STR: return "string";
    case QMP_T_INT: return "integer";
    case QMP_T_BOOL: return "boolean";
    case QMP_T_OBJECT: return "object";
    case QMP_T_ARRAY: return "array";
    case QMP_T_STR_OR_OBJECT: return "string or object";
    }
    return "?";
}

static bool type_ok(JsonNode *n, qmp_arg_type t)
{
    bool is_str = JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING;

    switch (t) {
    case QMP_T_STR: return is_str;
    case QMP_T_INT: return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64;
    case QMP_T_BOOL: return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_BOOLEAN;
    case QMP_T_OBJECT: return JSON_NODE_HOLDS_OBJECT(n);
    case QMP_T_ARRAY: return JSON_NODE_HOLDS_ARRAY(n);
    case QMP_T_STR_OR_OBJECT: return is_str || JSON_NODE_HOLDS_OBJECT(n);
    }
    return false;
}

static const struct qmp_arg vm_arg = { "vm", QMP_T_STR, true };

static const struct qmp_arg *find_arg(const struct qmp_command *cmd, const char *name)
{
    if ((cmd->flags & QMP_CMD_VM) && !strcmp(name, vm_arg.name))
        return &vm_arg;
    for (const struct qmp_arg *a = cmd->args; a && a->name; a++)
        if (!strcmp(a->name, name))
            return a;
    return NULL;
}

/* Every member known and of its type, every required one present. */
static bool check_args(const struct qmp_command *cmd, JsonObject *args, GError **error)
{
    g_autoptr(GList) members = json_object_get_members(args);

    for (GList *l = members; l; l = l->next) {
        const char *name = l->data;
        const struct qmp_arg *a = find_arg(cmd, name);

        if (!a) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Parameter '%s' is unexpected",
                        name);
            return false;
        }
        if (!type_ok(json_object_get_member(args, name), a->type)) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                        "Invalid parameter type for '%s', expected: %s", name,
                        type_name(a->type));
            return false;
        }
    }
    for (const struct qmp_arg *a = cmd->args; a && a->name; a++) {
        if (!a->optional && !json_object_has_member(args, a->name)) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Parameter '%s' is missing",
                        a->name);
            return false;
        }
    }
    return true;
}

/* The request's shape: an object with a string "execute", maybe an object
 * "arguments" and any "id", nothing else. */
static bool check_request(JsonNode *root, GError **error)
{
    JsonObject *req;
    g_autoptr(GList) members = NULL;
    JsonNode *exec, *args;

    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "QMP input must be a JSON object");
        return false;
    }
    req = json_node_get_object(root);
    members = json_object_get_members(req);
    for (GList *l = members; l; l = l->next) {
        const char *m = l->data;

        if (strcmp(m, "execute") && strcmp(m, "arguments") && strcmp(m, "id")) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                        "QMP input member '%s' is unexpected", m);
            return false;
        }
    }
    exec = json_object_get_member(req, "execute");
    if (!exec) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "QMP input lacks member 'execute'");
        return false;
    }
    if (!JSON_NODE_HOLDS_VALUE(exec) || json_node_get_value_type(exec) != G_TYPE_STRING) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "QMP input member 'execute' must be a string");
        return false;
    }
    args = json_object_get_member(req, "arguments");
    if (args && !JSON_NODE_HOLDS_OBJECT(args)) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                    "QMP input member 'arguments' must be an object");
        return false;
    }
    return true;
}

static JsonNode *run(struct qmp_session *s, JsonObject *req, GError **error)
{
    const char *name = json_object_get_string_member(req, "execute");
    const struct qmp_command *cmd = qmp_command_find(name);
    JsonNode *args_node = json_object_get_member(req, "arguments");
    g_autoptr(JsonObject) empty = json_object_new();
    struct qmp_request r = { .session = s };

    if (!s->negotiated && !(cmd && (cmd->flags & QMP_CMD_NEGOTIATION))) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
        return NULL;
    }
    if (!cmd) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_COMMAND_NOT_FOUND,
                    "The command %s has not been found", name);
        return NULL;
    }
    r.args = args_node ? json_node_get_object(args_node) : empty;
    if (!check_args(cmd, r.args, error))
        return NULL;
    if (cmd->flags & QMP_CMD_VM) {
        struct mvm *mv;

        r.vm = qmp_arg_str(&r, "vm");
        if (!r.vm && !s->manager->default_vm) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Parameter 'vm' is missing");
            return NULL;
        }
        mv = manager_find(s->manager, r.vm, error);
        if (!mv)
            return NULL;
        r.vm = mv->name;
    }
    return cmd->handler(&r, error);
}

char *qmp_session_handle(struct qmp_session *s, const char *text, size_t len)
{
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    g_autoptr(GError) error = NULL;
    g_autofree char *id = NULL;
    JsonNode *root, *ret;

    /* Strict JSON first: json-glib alone would take what QMP must refuse. */
    if (!qmp_json_check(text, len, &id, &error))
        return error_reply(error, NULL);
    if (!json_parser_load_from_data(parser, text, len, &error)) {
        g_autoptr(GError) e = g_error_new(QMP_ERROR, QMP_ERROR_GENERIC, "JSON parse error, %s",
                                          error->message);
        return error_reply(e, NULL);
    }
    root = json_parser_get_root(parser);
    if (!root) {
        g_set_error(&error, QMP_ERROR, QMP_ERROR_GENERIC, "QMP input must be a JSON object");
        return error_reply(error, NULL);
    }
    if (!check_request(root, &error))
        return error_reply(error, id);
    ret = run(s, json_node_get_object(root), &error);
    if (error) {
        if (ret)
            json_node_unref(ret);
        return error_reply(error, id);
    }
    return return_reply(ret, id);
}

const char *qmp_arg_str(const struct qmp_request *req, const char *name)
{
    JsonNode *n = json_object_get_member(req->args, name);

    return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
               ? json_node_get_string(n) : NULL;
}

bool qmp_arg_has(const struct qmp_request *req, const char *name)
{
    return json_object_has_member(req->args, name);
}
