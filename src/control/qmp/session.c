/*
 * One QMP conversation: a request text in, a reply line out. The checks
 * run in the order QEMU's monitor has them (the shape of the request, the
 * negotiation state, the command, its arguments against the schema) so
 * that clients written against QEMU see the classes they expect; no
 * handler runs on a request that failed one.
 */
#include <string.h>

#include "vmm/manager.h"
#include "vmm/qmp.h"

#include "internal.h"

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
    return with_id(qmp_json_line(qmp_object_node(top)), id);
}

static char *return_reply(JsonNode *ret, const char *id)
{
    JsonObject *top = json_object_new();

    json_object_set_member(top, "return", ret ? ret : qmp_object_node(json_object_new()));
    return with_id(qmp_json_line(qmp_object_node(top)), id);
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

/* "vm": given, or the manager's default VM; it must exist. */
static bool resolve_vm(struct qmp_session *s, struct qmp_request *r, GError **error)
{
    struct mvm *mv;

    r->vm = qmp_arg_str(r, "vm");
    if (!r->vm && !s->manager->default_vm) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Parameter 'vm' is missing");
        return false;
    }
    mv = manager_find(s->manager, r->vm, error);
    if (!mv)
        return false;
    r->vm = mv->name;
    return true;
}

static JsonNode *run(struct qmp_session *s, JsonObject *req, GError **error)
{
    const char *name = json_object_get_string_member(req, "execute");
    const struct qmp_command_decl *cmd = qmp_schema_command(name);
    JsonNode *args_node = json_object_get_member(req, "arguments");
    g_autoptr(JsonObject) empty = json_object_new();
    struct qmp_request r = { .session = s, .decl = cmd };

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
    if (!qmp_schema_check(cmd->args, (cmd->flags & QMP_CMD_VM) ? qmp_vm_args : NULL,
                          r.args, "", error))
        return NULL;
    if ((cmd->flags & QMP_CMD_VM) && !resolve_vm(s, &r, error))
        return NULL;
    return qmp_handler_find(name)(&r, error);
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
