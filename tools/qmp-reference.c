/*
 * Prints docs/qmp.md's command or event reference from the QMP schema
 * (src/control/qmp/schema.c), so that the page says what vmm checks:
 *
 *     qmp-reference commands|events
 *
 * meson runs it through tools/doc-section.py: a test fails when the page
 * is stale, `ninja -C build update-docs` rewrites it.
 */
#include <stdio.h>
#include <string.h>

#include "schema.h"

static void values(GString *out, const struct qmp_member *m)
{
    for (unsigned i = 0; i < m->n_values; i++)
        g_string_append_printf(out, "%s`%s`",
                               i == 0 ? "" : i == m->n_values - 1 ? " or " : ", ",
                               m->values[i]);
}

/* "integer, 1 to 600000, default 1000", "array of at most 4 integers", ... */
static void describe(GString *out, const struct qmp_member *m)
{
    if (m->type == QMP_T_ARRAY && m->max_items) {
        g_autofree char *t = qmp_type_describe(m);

        g_string_append_printf(out, "array of at most %u%s", m->max_items,
                               t + strlen("array of"));
    } else {
        g_autofree char *t = qmp_type_describe(m);

        g_string_append(out, t);
    }
    if (m->n_values) {
        g_string_append(out, m->type == QMP_T_ARRAY ? ", each " : ": ");
        values(out, m);
    }
    if (m->max_len)
        g_string_append_printf(out, " of at most %zu bytes", m->max_len);
    if (m->type == QMP_T_INT && m->min < m->max)
        g_string_append_printf(out, ", %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, m->min,
                               m->max);
    if (m->type == QMP_T_INT && m->optional && m->def)
        g_string_append_printf(out, ", default %" G_GINT64_FORMAT, m->def);
}

static void members(GString *out, const struct qmp_member *list, int indent)
{
    for (const struct qmp_member *m = list; m && m->name; m++) {
        /* "vm" is optional only under vmm run: its doc says so. */
        g_string_append_printf(out, "%*s- `%s`%s: ", indent, "", m->name,
                               m->optional && m != qmp_vm_args ? " (optional)" : "");
        describe(out, m);
        if (m->doc)
            g_string_append_printf(out, "; %s", m->doc);
        g_string_append_c(out, '\n');
        if (m->type == QMP_T_OBJECT && m->members)
            members(out, m->members, indent + 2);
    }
}

static void commands(GString *out)
{
    for (size_t i = 0; i < qmp_schema_commands_len; i++) {
        const struct qmp_command_decl *c = &qmp_schema_commands[i];

        g_string_append_printf(out, "### %s\n\n", c->name);
        if (c->flags & QMP_CMD_VM || c->args) {
            g_string_append(out, "Arguments:\n\n");
            if (c->flags & QMP_CMD_VM)
                members(out, qmp_vm_args, 0);
            members(out, c->args, 0);
            g_string_append_c(out, '\n');
        }
        g_string_append_printf(out, "Returns %s.%s %s\n\n", c->returns,
                               c->flags & QMP_CMD_NEGOTIATION
                                   ? " Runs in capabilities negotiation mode too." : "",
                               c->doc);
    }
}

static void events(GString *out)
{
    for (size_t i = 0; i < qmp_schema_events_len; i++) {
        const struct qmp_event_decl *e = &qmp_schema_events[i];

        g_string_append_printf(out, "### %s\n\nWhen: %s.\n\n", e->name, e->when);
        if (e->data) {
            g_string_append(out, "Data besides `vm` and `id`:\n\n");
            members(out, e->data, 0);
            g_string_append_c(out, '\n');
        }
    }
}

int main(int argc, char **argv)
{
    g_autoptr(GString) out = g_string_new(NULL);

    if (argc != 2 || (strcmp(argv[1], "commands") && strcmp(argv[1], "events"))) {
        fprintf(stderr, "usage: qmp-reference commands|events\n");
        return 2;
    }
    if (!strcmp(argv[1], "commands"))
        commands(out);
    else
        events(out);
    /* A section ends without a blank line: the end marker follows. */
    while (out->len >= 2 && out->str[out->len - 1] == '\n' && out->str[out->len - 2] == '\n')
        g_string_truncate(out, out->len - 1);
    fputs(out->str, stdout);
    return 0;
}
