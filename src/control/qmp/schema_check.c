/*
 * Checking a JSON object against its declared members (schema.h): the one
 * place a request's arguments and an event's data are checked, so that no
 * handler re-checks what it reads. The errors are QEMU's texts where QEMU
 * has one ("Parameter 'X' is unexpected", "Invalid parameter type for 'X',
 * expected: T", "Parameter 'X' is missing").
 */
#include <string.h>

#include "vmm/qmp.h"

#include "schema.h"

static const char *type_name(qmp_type t, bool plural)
{
    switch (t) {
    case QMP_T_STR: return plural ? "strings" : "string";
    case QMP_T_INT: return plural ? "integers" : "integer";
    case QMP_T_BOOL: return plural ? "booleans" : "boolean";
    case QMP_T_OBJECT: return plural ? "objects" : "object";
    case QMP_T_ARRAY: return plural ? "arrays" : "array";
    case QMP_T_STR_OR_OBJECT: return plural ? "strings or objects" : "string or object";
    }
    return "?";
}

char *qmp_type_describe(const struct qmp_member *m)
{
    if (m->type == QMP_T_ARRAY)
        return g_strdup_printf("array of %s", type_name(m->elem, true));
    return g_strdup(type_name(m->type, false));
}

static bool holds(JsonNode *n, GType t)
{
    return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}

static bool type_ok(JsonNode *n, qmp_type t)
{
    switch (t) {
    case QMP_T_STR: return holds(n, G_TYPE_STRING);
    case QMP_T_INT: return holds(n, G_TYPE_INT64);
    case QMP_T_BOOL: return holds(n, G_TYPE_BOOLEAN);
    case QMP_T_OBJECT: return JSON_NODE_HOLDS_OBJECT(n);
    case QMP_T_ARRAY: return JSON_NODE_HOLDS_ARRAY(n);
    case QMP_T_STR_OR_OBJECT: return holds(n, G_TYPE_STRING) || JSON_NODE_HOLDS_OBJECT(n);
    }
    return false;
}

static bool value_known(const struct qmp_member *m, const char *s)
{
    for (unsigned i = 0; i < m->n_values; i++)
        if (!strcmp(m->values[i], s))
            return true;
    return m->n_values == 0;
}

/* "a", "b" or "c" (@quote) or a, b, c. */
static char *values_list(const struct qmp_member *m, bool quote)
{
    GString *s = g_string_new(NULL);

    for (unsigned i = 0; i < m->n_values; i++) {
        if (i)
            g_string_append(s, quote && i == m->n_values - 1 ? " or " : ", ");
        g_string_append_printf(s, quote ? "\"%s\"" : "%s", m->values[i]);
    }
    return g_string_free(s, FALSE);
}

static bool check_object(const struct qmp_member *members, const struct qmp_member *extra,
                         JsonObject *o, const struct qmp_member *parent, const char *prefix,
                         GError **error);

static bool type_error(const struct qmp_member *m, const char *path, GError **error)
{
    g_autofree char *want = qmp_type_describe(m);

    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                "Invalid parameter type for '%s', expected: %s", path, want);
    return false;
}

static bool check_string(const struct qmp_member *m, const char *s, const char *path,
                         bool element, GError **error)
{
    if (!value_known(m, s)) {
        g_autofree char *known = values_list(m, !element);

        if (element)
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                        "'%s': unknown name '%s' (known: %s)", path, s, known);
        else
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "'%s' must be %s, not \"%s\"",
                        path, known, s);
        return false;
    }
    if (m->max_len && strlen(s) > m->max_len) {
        g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "'%s' must be at most %zu bytes",
                    path, m->max_len);
        return false;
    }
    return true;
}

static bool check_value(const struct qmp_member *m, JsonNode *n, const char *path,
                        GError **error)
{
    if (!type_ok(n, m->type))
        return type_error(m, path, error);
    switch (m->type) {
    case QMP_T_INT: {
        gint64 v = json_node_get_int(n);

        if (m->min < m->max && (v < m->min || v > m->max)) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                        "'%s' must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, path, m->min,
                        m->max);
            return false;
        }
        return true;
    }
    case QMP_T_STR:
        return check_string(m, json_node_get_string(n), path, false, error);
    case QMP_T_ARRAY: {
        JsonArray *a = json_node_get_array(n);
        guint len = json_array_get_length(a);

        for (guint i = 0; i < len; i++) {
            JsonNode *e = json_array_get_element(a, i);

            if (!type_ok(e, m->elem))
                return type_error(m, path, error);
            if (m->elem == QMP_T_STR && !check_string(m, json_node_get_string(e), path, true,
                                                      error))
                return false;
        }
        if (m->max_items && len > m->max_items) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "'%s': at most %u values", path,
                        m->max_items);
            return false;
        }
        return true;
    }
    case QMP_T_OBJECT: {
        g_autofree char *inner = g_strconcat(path, ".", NULL);

        return !m->members ||
               check_object(m->members, NULL, json_node_get_object(n), m, inner, error);
    }
    default:
        return true;
    }
}

static const struct qmp_member *find(const struct qmp_member *members, const char *name)
{
    for (const struct qmp_member *m = members; m && m->name; m++)
        if (!strcmp(m->name, name))
            return m;
    return NULL;
}

static bool all_present(const struct qmp_member *members, JsonObject *o, const char *prefix,
                        GError **error)
{
    for (const struct qmp_member *m = members; m && m->name; m++) {
        if (!m->optional && !json_object_has_member(o, m->name)) {
            g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "Parameter '%s%s' is missing",
                        prefix, m->name);
            return false;
        }
    }
    return true;
}

static bool check_object(const struct qmp_member *members, const struct qmp_member *extra,
                         JsonObject *o, const struct qmp_member *parent, const char *prefix,
                         GError **error)
{
    g_autoptr(GList) names = json_object_get_members(o);

    for (GList *l = names; l; l = l->next) {
        const char *name = l->data;
        const struct qmp_member *m = find(members, name);
        g_autofree char *path = g_strconcat(prefix, name, NULL);

        if (!m)
            m = find(extra, name);
        if (!m) {
            if (parent && parent->member_noun) {
                g_autofree char *known = NULL;
                GString *k = g_string_new(NULL);

                for (const struct qmp_member *p = members; p->name; p++)
                    g_string_append_printf(k, "%s%s", p == members ? "" : ", ", p->name);
                known = g_string_free(k, FALSE);
                g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                            "'%.*s': unknown %s '%s' (known: %s)", (int)strlen(prefix) - 1,
                            prefix, parent->member_noun, name, known);
            } else {
                g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC,
                            "Parameter '%s' is unexpected", path);
            }
            return false;
        }
        if (!check_value(m, json_object_get_member(o, name), path, error))
            return false;
    }
    if (!all_present(members, o, prefix, error) || !all_present(extra, o, prefix, error))
        return false;
    return true;
}

bool qmp_schema_check(const struct qmp_member *members, const struct qmp_member *extra,
                      JsonObject *o, const char *prefix, GError **error)
{
    return check_object(members, extra, o, NULL, prefix, error);
}
