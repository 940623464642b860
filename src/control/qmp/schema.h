/*
 * The QMP schema: every command and event the control socket has, declared
 * once (schema.c). The session checks each request against it before a
 * handler runs, events are checked against it as they are written, and
 * query-commands, query-events and docs/qmp.md's reference
 * (tools/qmp-reference.c) are generated from it.
 *
 * Internal to src/control/qmp/ and the tools and tests that read the table.
 */
#ifndef VMM_QMP_SCHEMA_H
#define VMM_QMP_SCHEMA_H

#include <json-glib/json-glib.h>
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    QMP_T_STR,
    QMP_T_INT,
    QMP_T_BOOL,
    QMP_T_OBJECT,
    QMP_T_ARRAY,
    QMP_T_STR_OR_OBJECT,
} qmp_type;

/* One member of an object: a command's argument, an event's data. Fields
 * that do not apply to the type stay zero. */
struct qmp_member {
    const char *name;
    qmp_type type;
    bool optional;
    /* QMP_T_INT: the range, and the value when absent (optional only). */
    gint64 min, max, def;
    /* QMP_T_STR, and QMP_T_ARRAY's string elements: the allowed values
     * (n_values of them; none: any string), or at most max_len bytes. */
    const char *const *values;
    unsigned n_values;
    size_t max_len;
    /* QMP_T_ARRAY: the elements' type and at most max_items (0: any). */
    qmp_type elem;
    unsigned max_items;
    /* QMP_T_OBJECT: its members ({ NULL } ends; NULL: any members, read
     * by the handler) and what an unknown one is called in errors. */
    const struct qmp_member *members;
    const char *member_noun;
    const char *doc;          /* a phrase for the reference */
};

enum {
    QMP_CMD_NEGOTIATION = 1 << 0,  /* allowed before qmp_capabilities */
    QMP_CMD_VM = 1 << 1,           /* takes "vm" (optional when the manager
                                    * has a default VM), checked to exist */
};

struct qmp_command_decl {
    const char *name;
    unsigned flags;
    const struct qmp_member *args;  /* { NULL } ends; NULL: none */
    const char *returns;            /* the reply's shape, markdown */
    const char *doc;                /* one paragraph, markdown */
};

struct qmp_event_decl {
    const char *name;
    const struct qmp_member *data;  /* besides "vm" and "id", which all have */
    const char *when;               /* markdown */
};

/* In the order query-commands and the reference list them. */
extern const struct qmp_command_decl qmp_schema_commands[];
extern const size_t qmp_schema_commands_len;
extern const struct qmp_event_decl qmp_schema_events[];
extern const size_t qmp_schema_events_len;
/* "vm", which QMP_CMD_VM commands take, and the members every event has
 * ({ NULL } ended). */
extern const struct qmp_member qmp_vm_args[];
extern const struct qmp_member qmp_event_common[];

const struct qmp_command_decl *qmp_schema_command(const char *name);
const struct qmp_event_decl *qmp_schema_event(const char *name);
/* A command's argument @name (its "vm" included), or NULL. */
const struct qmp_member *qmp_schema_arg(const struct qmp_command_decl *cmd, const char *name);

/* --- Checking values against declarations (schema_check.c) ------------- */

/* Every member of @o declared in @members (and @extra, NULL or { NULL }
 * ended), each of its type and within its limits, every required one
 * present. The errors are QMP's GenericError texts, naming the member
 * (@prefix "services." for nested ones, "" at the top). */
bool qmp_schema_check(const struct qmp_member *members, const struct qmp_member *extra,
                      JsonObject *o, const char *prefix, GError **error);
/* "string", "integer", "array of strings", ...; free with g_free(). */
char *qmp_type_describe(const struct qmp_member *m);

#endif
