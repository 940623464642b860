/*
 * Reading a checked request's arguments. The session has checked them
 * against the command's declaration, so each read is of the declared type;
 * the assertions catch a handler reading what its declaration does not
 * say.
 */
#include "internal.h"

static JsonNode *arg(const struct qmp_request *req, const char *name, qmp_type type)
{
    const struct qmp_member *m = qmp_schema_arg(req->decl, name);

    if (!m || m->type != type)
        g_error("QMP %s: argument '%s' is not declared as read", req->decl->name, name);
    return json_object_get_member(req->args, name);
}

const char *qmp_arg_str(const struct qmp_request *req, const char *name)
{
    JsonNode *n = arg(req, name, QMP_T_STR);

    return n ? json_node_get_string(n) : NULL;
}

gint64 qmp_arg_int(const struct qmp_request *req, const char *name)
{
    JsonNode *n = arg(req, name, QMP_T_INT);

    return n ? json_node_get_int(n) : qmp_schema_arg(req->decl, name)->def;
}

bool qmp_arg_bool(const struct qmp_request *req, const char *name)
{
    JsonNode *n = arg(req, name, QMP_T_BOOL);

    return n && json_node_get_boolean(n);
}

JsonArray *qmp_arg_array(const struct qmp_request *req, const char *name)
{
    JsonNode *n = arg(req, name, QMP_T_ARRAY);

    return n ? json_node_get_array(n) : NULL;
}

JsonObject *qmp_arg_object(const struct qmp_request *req, const char *name)
{
    JsonNode *n = arg(req, name, QMP_T_OBJECT);

    return n ? json_node_get_object(n) : NULL;
}

bool qmp_arg_has(const struct qmp_request *req, const char *name)
{
    return json_object_has_member(req->args, name);
}
